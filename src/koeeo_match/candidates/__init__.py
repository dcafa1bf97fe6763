"""The candidate graph: every eligible (employee, mission) pair, vectorised.

A pair is eligible when (DESIGN.md §4) the employee has every required skill
at the required level, is available on the mission's date (if it has one),
is within ``max_km`` of the mission (or the mission is remote and the
employee ``remote_ok``), the employer does not exclude the association, and
the pair is not ``forbidden``; and (DESIGN.md §8) the employee joined and
the mission was posted before a dated mission's date.

How it scales: missions are grouped by their most selective required skill;
each group meets only the employees who hold that skill, through a KD-tree on
unit-sphere coordinates (``scipy.spatial.cKDTree``), in chunks of employees so
that memory stays bounded.  Remaining rules are boolean masks over arc
arrays.  There is no loop over employees or missions in Python, and no dense
employee x mission matrix.

Modules, in the order a graph is built:

- :mod:`.eligibility`: the rules, one mask each, and :func:`filter_eligible`;
- ``_generate``: raw pairs to test (KD-tree neighbours, remote cross products, chunks);
- ``_cap``: each employee's and mission's ``k`` best arcs, and the département blocks;
- ``_pairs``: :func:`eligible_pairs`, the above put together;
- ``_estimate``: :func:`estimate_arcs`, the graph's size from a sample of employees, before building it;
- ``_terms``: the objective terms of arcs (:func:`arc_terms`, :class:`ArcTerms`);
- ``_graph``: the :class:`CandidateGraph` type;
- ``_score``: integer scores for a policy, and :func:`rescore`;
- ``_bounds``: what is known of scores before any arc is built (:func:`problem_scale`,
  :func:`score_bounds`), for a graph that grows by pricing;
- ``_scan``: :func:`priced_pairs`, the pairs of the implicit full graph that beat given prices;
- ``_partial``: :func:`free_pairs`, some of them cheaply: free nodes' best pairs among their nearest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from numbers import Integral

import numpy as np

from .._arrays import csr_ptr
from .._params import Constraint, InstanceOf, Interval, Satisfies, param_error, validate
from ..model import Problem
from ..policy import Policy, as_policy
from ._bounds import MISSION_TERMS, ScoreBounds, problem_scale, score_bounds
from ._cap import top_k
from ._estimate import DECIDE_SAMPLE, SAMPLE, ArcEstimate, arc_estimate, capped_k, estimate_arcs, full_graph_late
from ._graph import CandidateGraph
from ._pairs import eligible_pairs
from ._partial import FreeStats, free_pairs
from ._scan import ScanStats, priced_pairs
from ._score import rescore, scored
from ._tables import in_sorted, pair_keys
from ._terms import ArcTerms, arc_terms, rural_associations, trip_km
from .eligibility import filter_eligible

__all__ = [
    "DECIDE_SAMPLE",
    "SAMPLE",
    "MISSION_TERMS",
    "FreeStats",
    "free_pairs",
    "ScanStats",
    "ScoreBounds",
    "in_sorted",
    "pair_keys",
    "priced_pairs",
    "problem_scale",
    "score_bounds",
    "top_k",
    "ArcEstimate",
    "full_graph_late",
    "capped_k",
    "ArcTerms",
    "arc_estimate",
    "CandidateGraph",
    "arc_terms",
    "build_candidates",
    "eligible_pairs",
    "estimate_arcs",
    "filter_eligible",
    "rescore",
    "scored",
    "rural_associations",
    "trip_km",
]

#: The checked parameters of :func:`build_candidates` (``k`` as solve's ``top_k``).
_PARAMS: dict[str, list[Constraint | None]] = {
    "problem": [InstanceOf(Problem, "a Problem")],
    "k": [Interval(Integral, 1, None, closed="left"), None],
    "stop": [Satisfies(callable, "a callable"), None],
    "interrupt": [Satisfies(callable, "a callable"), None],
}


def build_candidates(
    problem: Problem, policy: Policy | str, *, k: int | None = None, rank: Policy | str | None = None,
    stop: Callable[[], bool] | None = None, interrupt: Callable[[], bool] | None = None,
) -> CandidateGraph:
    """Build the candidate graph of ``problem`` with integer scores from ``policy``.

    Parameters
    ----------
    problem : Problem
    policy : Policy or str
        The policy (or the name of a preset) whose integer scores the arcs carry.
    k : int, optional
        Keep only the ``k`` best arcs of each employee and of each mission
        (union), for instances whose full graph is too large.  ``None``
        (default) keeps every eligible pair: solutions are then optimal for
        the problem itself, not only for the capped graph.
    rank : Policy, optional
        With ``k``: the policy whose scores choose the kept arcs (default:
        ``policy``).  Graphs of several policies built with the same
        ``rank`` have the same arcs, so their solutions compare the
        policies alone, not also the arcs each policy would keep.
    stop : callable, optional
        Asked between the groups and chunks of pairs drawn (a deadline, Ctrl-C); once it
        answers True (and it must keep answering True), the pairs not drawn yet are left out
        and the graph is marked ``partial``: a part of the graph asked for (the forced pairs
        always in it), which proves nothing about the problem.
    interrupt : callable, optional
        Asked by this process while a capped graph's blocks are drawn by a pool of processes
        (which ask their own copy of ``stop``): True kills them, the blocks they finished are
        kept (a Ctrl-C that reaches this process alone, as a notebook's interrupt does).

    Returns
    -------
    CandidateGraph

    Raises
    ------
    InvalidParameterError
        A parameter of a wrong type or value (named), or ``rank`` given without ``k``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> bool((g.employee[:-1] <= g.employee[1:]).all())
    True
    """
    validate("build_candidates", _PARAMS, {"problem": problem, "k": k, "stop": stop, "interrupt": interrupt})
    k = None if k is None else int(k)  # a numpy integer would wrap around in k * pool sizes
    policy = as_policy(policy, "policy", "build_candidates")
    rank = None if rank is None else as_policy(rank, "rank", "build_candidates")
    if rank is not None and k is None:
        raise param_error("build_candidates", "rank", "applies only with k (a capped graph).")
    left_out: list[bool] = []  # every pairs (one process): a True answer of stop always left some out

    def asked() -> bool:
        if stop is not None and stop():
            left_out.append(True)
            return True
        return False

    ea, ma, km = eligible_pairs(problem, k=k, policy=rank or policy, stop=None if stop is None else asked,
                                interrupt=interrupt)
    # capped (forked workers ask their own copy): stop must keep answering True once it has
    partial = bool(left_out) if k is None else stop is not None and stop()
    # a part, or a capped graph (a forced pair need not be among its k best), holds every forced pair that is
    # eligible: its solution must keep them, and a forced pair missing is then one that is not eligible
    if (partial or k is not None) and problem.forced.employee.size:
        fe, fm, fkm = filter_eligible(problem, problem.forced.employee.astype(np.int32),
                                      problem.forced.mission.astype(np.int32))
        ea, ma, km = (np.concatenate(x) for x in ((ea, fe), (ma, fm), (km, fkm)))
        _, first = np.unique(pair_keys(ea, ma, problem.n_missions), return_index=True)  # sorted, distinct
        ea, ma, km = ea[first], ma[first], km[first]
    weighed = [t for t, w in policy.weights().items() if w]
    terms = ArcTerms(problem, ea, ma, km, arc_terms(problem, ea, ma, km, weighed))
    graph = scored(problem, policy, ea, ma, csr_ptr(ea, problem.n_employees), km, terms, k, rank)
    return dataclasses.replace(graph, partial=True) if partial else graph
