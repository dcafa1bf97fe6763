"""The whole problem's Solution: the pinned pairs plus the reduced problem's solve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import metrics as _metrics
from .._geo import haversine_km
from ..candidates import arc_terms
from ..model import Problem
from ..policy import Policy
from ..solution import Solution, relative_gap
from ..status import Status
from ._reduce import Reduced

__all__ = ["merge", "pairs_solution", "pairs_value"]


def pairs_value(problem: Problem, policy: Policy, e: np.ndarray, m: np.ndarray) -> float:
    """The policy value of the pairs ``(e, m)`` (the primary terms of a lexicographic policy), as
    :func:`koeeo_match.engine.to_solution` counts an objective.

    >>> import numpy as np, koeeo_match as km
    >>> p = km.synth.city(employees=20, seed=0)
    >>> bool(pairs_value(p, km.Policy.preset("max_hours"), np.array([0]), np.array([0])) == p.missions.hours[0])
    True
    """
    if not e.size:
        return 0.0
    E, M = problem.employees, problem.missions
    km = haversine_km(E.lat[e], E.lon[e], M.lat[m], M.lon[m])
    weighed = [t for t, w in policy.weights().items() if w]
    terms = arc_terms(problem, e, m, km, weighed)
    return float(policy.score(terms, "primary" if policy.primary else "all").sum())


def pairs_solution(problem: Problem, e: np.ndarray, m: np.ndarray, policy: Policy, *, status: Status,
                   objective: float, bound: float | None, method: str, message: str, seconds: float,
                   extra: Mapping[str, Any] | None = None, termination: Any = None) -> Solution:
    """A Solution of the pairs ``(e, m)`` (indices into ``problem``, sorted by employee then
    mission here): metrics by :func:`koeeo_match.metrics.compute` on the whole problem, then
    the figures of ``extra`` it does not compute, then the solve's figures (objective, bound,
    gap, ``solve_seconds``)."""
    order = np.lexsort((m, e))
    e, m = np.asarray(e, np.int64)[order], np.asarray(m, np.int64)[order]
    met = _metrics.compute(problem, e, m)
    met.update({k: v for k, v in (extra or {}).items() if k not in met})  # the whole problem's figures win
    met.update(objective=objective, bound=bound, gap=relative_gap(status, objective, bound), solve_seconds=seconds)
    return Solution(status=status, objective=objective, bound=bound, employee_ids=problem.employees.ids[e],
                    mission_ids=problem.missions.ids[m], metrics=met, method=method, message=message,
                    employee=e.astype(np.int32), mission=m.astype(np.int32), problem=problem, policy=policy,
                    termination=termination)


def merge(problem: Problem, reduced: Reduced, inner: Solution, policy: Policy, *, seconds: float) -> Solution:
    """The whole problem's Solution: the pinned pairs plus ``inner`` (a solve of ``reduced.problem``).

    Objective and bound are the pinned pairs' value plus ``inner``'s; the status is ``inner``'s
    (an ``infeasible`` or ``unknown`` one has no assignments: nothing completes the pinned pairs);
    metrics are computed on the whole problem, and ``metrics["fixed"]`` counts the pinned pairs.
    """
    fe, fm = reduced.fixed_employee, reduced.fixed_mission
    fixed_value = pairs_value(problem, policy, fe, fm)
    ok = inner.status in (Status.OPTIMAL, Status.FEASIBLE)
    ie = np.asarray(inner.employee if inner.employee is not None else np.zeros(0, np.int64), np.int64)
    im = np.asarray(inner.mission if inner.mission is not None else np.zeros(0, np.int64), np.int64)
    if ok:
        e = np.concatenate([fe, reduced.employees[ie]])
        m = np.concatenate([fm, reduced.missions[im]])
    else:
        e = m = np.zeros(0, np.int64)
    objective = fixed_value + inner.objective if ok else 0.0
    bound = None if inner.bound is None else fixed_value + inner.bound
    if ok:
        head = f"{fe.size} fixed pair(s) kept"
    elif inner.status == Status.INFEASIBLE:
        head = f"no solution holds the {fe.size} fixed pair(s) (a started team or a forced pair cannot be completed)"
    else:
        head = f"no solution holding the {fe.size} fixed pair(s) found"
    message = head + (f"; {inner.message}" if inner.message else "")
    extra = dict(inner.metrics)
    graph_bound = extra.get("graph_bound")
    if graph_bound is not None:  # the bound on the candidate graph, and its gap, count the pinned pairs too
        graph_bound = fixed_value + graph_bound
        extra["graph_gap"] = max(graph_bound - objective, 0.0) / max(abs(graph_bound), 1.0)
    extra.update(fixed=int(fe.size), graph_bound=graph_bound)
    return pairs_solution(problem, e, m, policy, status=inner.status, objective=objective, bound=bound,
                          method=inner.method, message=message, seconds=seconds, extra=extra,
                          termination=inner.termination)
