"""Integer scores of a graph's arcs for a policy, and rescoring a built graph."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..model import Problem
from ..policy import Policy, cost_limit, integer_scores
from ._graph import CandidateGraph

__all__ = ["rescore", "scored"]


def scored(problem: Problem, policy: Policy, ea: np.ndarray, ma: np.ndarray, ptr: np.ndarray, km: np.ndarray,
           terms: Mapping[str, np.ndarray], k: int | None, rank: Policy | None) -> CandidateGraph:
    """The graph of the arcs ``(ea, ma)`` (CSR order, ``ptr``) with integer scores from ``policy``,
    scaled so that no total of a flow over them overflows an int64."""
    n_max = int(min(ea.size, int(problem.missions.seats.sum())))
    scale = integer_scores(policy, terms, max_assignments=n_max,
                           limit=cost_limit(problem.n_employees, problem.n_missions, ea.size))
    return CandidateGraph(
        n_employees=problem.n_employees,
        n_missions=problem.n_missions,
        employee=ea,
        mission=ma,
        ptr=ptr,
        km=km,
        terms=terms,
        score=scale.score,
        scale=scale,
        policy=policy,
        k=k,
        rank=rank,
    )


def rescore(graph: CandidateGraph, problem: Problem, policy: Policy) -> CandidateGraph:
    """The same arcs scored for another ``policy``, without rebuilding them.

    Eligibility and the objective terms do not depend on the policy, so a
    full graph (``k=None``) built for one policy serves every other: only
    the integer scores are recomputed.  A capped graph (``k`` given) keeps
    the arcs that ``graph.rank`` chose, which are not those ``policy`` would
    keep: it can be rescored only when it was built with an explicit
    ``rank`` (``build_candidates(..., k=k, rank=...)``), saying that the
    same arcs are wanted for every policy.

    Raises
    ------
    ValueError
        ``graph`` is capped without an explicit ``rank`` (its arcs depend on
        its own policy), is a part of a larger graph, or was not built for
        ``problem``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> h = rescore(g, p, km.Policy.preset("min_travel"))
    >>> bool((h.score == km.build_candidates(p, km.Policy.preset("min_travel")).score).all())
    True
    """
    if graph.k is not None and graph.rank is None:
        raise ValueError(f"A graph capped at k={graph.k} arcs cannot be rescored: its arcs depend on its policy; "
                         "build it again with build_candidates(problem, policy, k=...), or build it with "
                         "rank=... to keep the same arcs for every policy.")
    if graph.is_part:
        raise ValueError("A part of a candidate graph cannot be rescored; rescore the whole graph.")
    if graph.n_employees != problem.n_employees or graph.n_missions != problem.n_missions:
        raise ValueError(f"The graph ({graph.n_employees} employees, {graph.n_missions} missions) was not built "
                         f"for this problem ({problem.n_employees} employees, {problem.n_missions} missions).")
    return scored(problem, policy, graph.employee, graph.mission, graph.ptr, graph.km, graph.terms, graph.k,
                  graph.rank)
