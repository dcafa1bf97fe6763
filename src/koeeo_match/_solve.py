"""``solve()``: problem -> candidate graph -> solver -> Solution with metrics."""

from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Mapping

import numpy as np

from . import metrics as _metrics
from .candidates import CandidateGraph, build_candidates
from .model import Problem
from .policy import Policy, as_policy
from .solution import Solution, Status
from .solvers import REGISTRY, RawResult, SolveOptions

__all__ = ["solve", "METHODS"]

METHODS = ("auto", "flow", "cpsat", "greedy", "fcfs", "stable")


def method_label(method: str, raw: RawResult) -> str:
    """``auto:flow`` or ``auto:parts(cpsat=2,flow=5)``: what ``auto`` actually did."""
    if method != "auto":
        return method
    how = raw.stats.get("how")
    if how:
        return "auto:parts(" + ",".join(f"{k}={v}" for k, v in sorted(how.items())) + ")"
    return "auto:" + str(raw.stats.get("method", "cpsat"))


def solve(
    problem: Problem,
    method: str = "auto",
    policy: Policy | str | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    *,
    top_k: int | None = None,
    workers: int = 0,
    progress: Callable[[str], None] | None = None,
    proposing: str | None = None,
    preferences: Mapping[str, Any] | None = None,
    rank: Policy | str | None = None,
) -> Solution:
    """Assign employees to missions.

    Parameters
    ----------
    problem : Problem
    method : {"auto", "flow", "cpsat", "greedy", "fcfs", "stable"}
        ``flow``: exact min-cost flow, refuses rules a flow cannot express.
        ``cpsat``: exact CP-SAT, every rule.  ``greedy``: best score first.
        ``fcfs``: today's first-come-first-served platforms, simulated.
        ``auto``: flow where exact, CP-SAT otherwise.  ``stable``: a
        stable assignment by deferred acceptance (no blocking pair, see
        :func:`koeeo_match.blocking_pairs`); status ``feasible``, no bound.
    policy : Policy or str, optional
        The objective (a preset name or a :class:`Policy`); default ``max_hours``.
    time_limit : float, optional
        Seconds for CP-SAT; on expiry the best feasible solution is returned
        with status ``feasible`` and its gap.
    seed : int
        Seeds CP-SAT and the fcfs arrival order (``stable`` breaks ties by
        index and does not use it).
    top_k : int, optional
        Keep only the ``top_k`` best candidate arcs of each employee and of
        each mission (for national-scale instances).  The result is then
        optimal for that capped graph at best, so its status is ``feasible``
        (``metrics["graph_optimal"]`` says whether the capped graph was solved
        to optimality, ``graph_bound`` / ``graph_gap`` give the bound and gap
        on that graph).  ``None`` (default): the full graph, exact.
    rank : Policy or str, optional
        With ``top_k``: the policy that chooses the kept arcs (default:
        ``policy``).  Solving several policies with the same ``rank``
        compares them on the same arcs.
    workers : int
        CP-SAT workers (0: 2).
    progress : callable, optional
        Called with progress lines on long runs.
    proposing : {"employees", "associations"}, optional
        ``stable`` only: the side that proposes, and gets its best stable
        assignment (default ``"employees"``; ``"associations"``: each
        mission proposes for its seats).
    preferences : dict, optional
        ``stable`` only: explicit rankings ``{"employees": {employee id:
        [mission id, ...]}, "missions": {mission id: [employee id, ...]}}``,
        best first (see :func:`koeeo_match.stability.arc_ranks`); default:
        both sides rank their candidate arcs by the policy's score.

    Returns
    -------
    Solution

    Raises
    ------
    UnsupportedError
        The method cannot honour a rule of the problem (the message names it).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=3, rules="flow")
    >>> s = km.solve(p, method="flow", policy="max_hours")
    >>> s.metrics["assigned_hours"] == s.objective
    True
    """
    if method not in METHODS:
        raise ValueError(f"The 'method' parameter of solve must be one of {', '.join(METHODS)}. Got {method!r} instead.")
    policy = Policy.preset("max_hours") if policy is None else as_policy(policy, "policy", "solve")
    if rank is not None:
        if top_k is None:
            raise ValueError("The 'rank' parameter of solve applies only with top_k (it chooses the kept arcs).")
        rank = as_policy(rank, "rank", "solve")
    if method != "stable":
        for name, given in (("proposing", proposing), ("preferences", preferences)):
            if given is not None:
                raise ValueError(f"The {name!r} parameter of solve applies to method='stable' only. "
                                 f"Got method={method!r}.")
    if proposing is not None and proposing not in ("employees", "associations"):
        raise ValueError("The 'proposing' parameter of solve must be 'employees' or 'associations'. "
                         f"Got {proposing!r} instead.")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"The 'time_limit' parameter of solve must be > 0 seconds. Got {time_limit!r} instead.")
    t0 = time.perf_counter()
    graph = build_candidates(problem, policy, k=top_k, rank=rank)
    t_cand = time.perf_counter() - t0
    options = SolveOptions(time_limit=time_limit, seed=int(seed), workers=workers, progress=progress,
                           proposing=proposing or "employees", preferences=preferences)
    raw = REGISTRY[method](problem, graph, options)
    used = method_label(method, raw)
    return _to_solution(problem, graph, raw, used, t_cand, time.perf_counter() - t0)


def _to_solution(problem: Problem, graph: CandidateGraph, raw: RawResult, method: str,
                 t_cand: float, t_total: float, *, with_metrics: bool = True) -> Solution:
    sel = np.sort(np.asarray(raw.selected, np.int64))  # arcs are in (employee, mission) order
    e, m = graph.employee[sel], graph.mission[sel]
    policy = graph.policy
    which = "primary" if graph.scale.lexicographic else "all"
    objective = float(policy.score({k: graph.terms[k][sel] for k, w in policy.weights().items() if w}, which).sum())
    graph_optimal = raw.status == Status.OPTIMAL
    # bound and gap on the candidate graph itself (the problem's own when it is not capped)
    if graph_optimal:
        graph_bound: float | None = objective
    elif raw.bound is not None:
        graph_bound = max(graph.scale.primary_bound(raw.bound), objective)
    else:
        graph_bound = None
    graph_gap = None if graph_bound is None else max(graph_bound - objective, 0.0) / max(abs(graph_bound), 1.0)
    if graph.k is not None and raw.status == Status.OPTIMAL:
        raw = RawResult(raw.selected, Status.FEASIBLE, None,
                        f"optimal on the candidate graph capped at top_k={graph.k} arcs per employee and per mission; "
                        "no bound for the full problem", raw.stats)
    if raw.status == Status.OPTIMAL:
        bound: float | None = objective
    elif raw.bound is not None and graph.k is None:
        bound = max(graph.scale.primary_bound(raw.bound), objective)
    else:
        bound = None
    message = raw.message
    if graph.scale.collapsed and not raw.stats.get("fine_secondary"):
        warnings.warn(graph.scale.collapsed, RuntimeWarning, stacklevel=3)
        message = "; ".join(x for x in (message, graph.scale.collapsed) if x)
    sol = Solution(
        status=raw.status,
        objective=objective,
        bound=bound,
        employee_ids=problem.employees.ids[e],
        mission_ids=problem.missions.ids[m],
        method=method,
        message=message,
        employee=e,
        mission=m,
        problem=problem,
        policy=policy,
    )
    met = _metrics.compute(problem, e, m) if with_metrics else {}
    met.update(objective=objective, bound=bound, gap=sol.gap, solve_seconds=t_total,
               candidate_seconds=t_cand, candidate_arcs=len(graph), top_k=graph.k, graph_optimal=graph_optimal,
               graph_bound=graph_bound, graph_gap=graph_gap)
    sol.metrics.update(met)
    return sol
