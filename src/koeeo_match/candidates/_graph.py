"""The candidate graph type: eligible arcs in CSR order with their terms and integer scores."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._arrays import csr_ptr
from ..model import Problem
from ..policy import IntegerScores, Policy
from ._terms import ArcTerms

__all__ = ["CandidateGraph"]


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    """Eligible arcs in CSR order (sorted by employee, then mission).

    Attributes
    ----------
    employee, mission : ndarray of int32
        Arc endpoints.
    ptr : ndarray of int64
        ``ptr[e]:ptr[e+1]`` are employee ``e``'s arcs.
    km : ndarray of float64
        One-way great-circle distance (the ``travel_km`` term is 0 for a remote mission done from
        home by a ``remote_ok`` employee, ``2 * km`` for one done in person).
    terms : Mapping of str to ndarray
        Each objective term per arc (see :mod:`koeeo_match.policy`), an
        :class:`ArcTerms` (computed on first use) for a built graph.
    score : ndarray of int64
        Integer score per arc (higher is better), from ``policy``.
    scale : IntegerScores
        How ``score`` was scaled.
    k : int or None
        The cap on arcs per employee and per mission (None: every eligible pair).
    rank : Policy or None
        With ``k``, the policy given to choose the kept arcs; None when
        ``policy`` chose them (see :func:`build_candidates`).
    is_part : bool
        A subset of a larger graph (:meth:`subset`): its employees' arcs are all here.
    partial : bool
        Its build was stopped (a time limit, Ctrl-C: see :func:`build_candidates`): it holds
        only some of the arcs asked for, so its optimum proves nothing about the problem.

    Examples
    --------
    >>> import koeeo_match as km
    >>> g = km.build_candidates(km.synth.city(employees=50, seed=0), "max_hours")
    >>> int(g.ptr[-1]) == len(g) == int(g.degree_of_missions().sum())
    True
    """

    n_employees: int
    n_missions: int
    employee: np.ndarray
    mission: np.ndarray
    ptr: np.ndarray
    km: np.ndarray
    terms: Mapping[str, np.ndarray]
    score: np.ndarray
    scale: IntegerScores
    policy: Policy
    k: int | None = None
    rank: Policy | None = None  # with k: the policy given to choose the kept arcs (None: ``policy`` did)
    is_part: bool = False  # a subset of a larger graph: its employees' arcs are all here
    partial: bool = False  # its build was stopped: only some of the arcs asked for

    def __len__(self) -> int:
        return len(self.employee)

    def __repr__(self) -> str:
        return f"CandidateGraph({len(self)} arcs, {self.n_employees} employees, {self.n_missions} missions)"

    def degree_of_missions(self) -> np.ndarray:
        """Number of arcs of each mission."""
        return np.bincount(self.mission, minlength=self.n_missions)

    def best(self, n: int, problem: Problem | None = None) -> CandidateGraph:
        """The ``n`` best-scored arcs, as :meth:`subset` but marked ``partial`` (an answer on them
        proves nothing for the problem) and not a part (an employee may have arcs left out); the
        graph itself when it holds no more than ``n``, or when ``problem`` (its own) has forced
        pairs or teams started by pinned pairs (their teammates' arcs would be left out).

        >>> import koeeo_match as km
        >>> g = km.build_candidates(km.synth.city(employees=40, seed=1), "max_hours")
        >>> b = g.best(10)
        >>> len(b), int(b.score.min()) >= int(np.sort(g.score)[-10]), b.partial
        (10, True, True)
        """
        held = problem is not None and (len(problem.forced) > 0 or problem.taken is not None
                                         and bool(problem.taken.staffed.any()))
        if len(self) <= n or held:
            return self
        return dataclasses.replace(self.subset(np.argpartition(-self.score, n - 1)[:n]), partial=True, is_part=False)

    def subset(self, arcs: np.ndarray) -> CandidateGraph:
        """The graph restricted to the given arc indices (same node numbering and scale)."""
        arcs = np.sort(np.asarray(arcs, np.int64))
        ea = self.employee[arcs]
        return CandidateGraph(
            n_employees=self.n_employees,
            n_missions=self.n_missions,
            employee=ea,
            mission=self.mission[arcs],
            ptr=csr_ptr(ea, self.n_employees),
            km=self.km[arcs],
            terms=(self.terms.subset(arcs) if isinstance(self.terms, ArcTerms)
                   else {k: v[arcs] for k, v in self.terms.items()}),
            score=self.score[arcs],
            scale=self.scale,
            policy=self.policy,
            k=self.k,
            rank=self.rank,
            is_part=True,
            partial=self.partial,
        )
