"""Partial pricing: a few improving arcs between free nodes, found without a scan.

After a priced solve's flow (:mod:`koeeo_match.solvers.priced`), an employee with capacity
left and a mission with a seat left are both priced at 0, so *every* eligible pair of them
with a positive score prices out: on a national instance's first round, hundreds of millions
of arcs, which the full scan (:func:`~._scan.priced_pairs`) enumerates one by one.  A round
needs only some of them: :func:`free_pairs` draws each free employee's and each free
mission's few best eligible partners among its nearest *free* partners (the construction of
a capped graph, :func:`~._pairs.eligible_pairs`, restricted to the free nodes), and keeps
those that beat the prices.  It proves nothing: only a complete scan certifies a flow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..model import Problem
from ..policy import IntegerScores, Policy
from ._pairs import _capped_in_blocks
from ._terms import arc_terms

__all__ = ["FreeStats", "free_pairs"]


@dataclass
class FreeStats:
    """What one partial step did: free nodes, eligible arcs drawn, arcs that beat the prices,
    seconds."""

    employees: int = 0
    missions: int = 0
    arcs_drawn: int = 0
    arcs_priced: int = 0
    seconds: float = 0.0


def free_pairs(problem: Problem, policy: Policy, scale: IntegerScores, y: np.ndarray, v: np.ndarray,
               emps: np.ndarray, mis: np.ndarray, k: int, *,
               workers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, FreeStats]:
    """Each of ``emps``'s and ``mis``'s ``k`` best eligible pairs among them that beat the prices.

    Pairs are drawn as a capped graph's are (each employee's nearest missions and each
    mission's nearest employees, by key-skill group and département block, then each side's
    ``k`` best by ``policy``), between the nodes given only; of those, the pairs whose integer
    score exceeds ``y[e] + v[m]`` are returned.  Free nodes are priced at 0, so the ranking by
    score is the ranking by reduced cost.

    Parameters
    ----------
    problem : Problem
    policy : Policy
    scale : IntegerScores
        The scale arcs are scored on (:func:`~._bounds.problem_scale`).
    y, v : ndarray of int64
        The prices of all employees and all missions.
    emps, mis : ndarray of int
        The employees and missions to pair (typically: those with capacity left).
    k : int
        Arcs kept per node (before the prices are applied).
    workers : int, default 1
        Processes building the département blocks of a large set (0: every core).

    Returns
    -------
    ea, ma : ndarray of int32
        Pairs that beat the prices (sorted by employee, then mission).
    km : ndarray of float64
        Their one-way distance.
    score : ndarray of int64
        Their integer score.
    stats : FreeStats

    Examples
    --------
    >>> import koeeo_match as km
    >>> from koeeo_match.candidates import problem_scale
    >>> p = km.synth.city(employees=60, seed=0)
    >>> pol = km.Policy.preset("max_hours")
    >>> sc = problem_scale(p, pol, max_arcs=10_000)
    >>> y, v = np.zeros(p.n_employees, np.int64), np.zeros(p.n_missions, np.int64)
    >>> ea, ma, d, s, st = free_pairs(p, pol, sc, y, v, np.arange(p.n_employees), np.arange(p.n_missions), 1)
    >>> 0 < len(ea) < len(km.build_candidates(p, pol)), bool((s > 0).all())
    (True, True)
    """
    t0 = time.perf_counter()
    emps, mis = np.asarray(emps, np.int32), np.asarray(mis, np.int32)
    stats = FreeStats(employees=int(emps.size), missions=int(mis.size))
    ea, ma, km = _capped_in_blocks(problem, k, policy, workers, emps, mis)
    stats.arcs_drawn = int(ea.size)
    weighted = [t for t, w in policy.weights().items() if w]
    s = scale.apply(policy, arc_terms(problem, ea, ma, km, weighted))
    hit = s > y[ea] + v[ma]
    ea, ma, km, s = ea[hit], ma[hit], km[hit], s[hit]
    order = np.lexsort((ma, ea))
    ea, ma, km, s = ea[order], ma[order], km[order], s[order]
    stats.arcs_priced = int(ea.size)
    stats.seconds = time.perf_counter() - t0
    return ea.astype(np.int32), ma.astype(np.int32), km, s.astype(np.int64), stats
