"""A solver's raw result as a :class:`~koeeo_match.Solution`: the objective, the bound and the gap
as they hold for the problem (a capped or a partial graph proves nothing for it), the bound and gap
on the candidate graph in their own ``graph_*`` fields, and the metrics."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import metrics as _metrics
from .candidates import CandidateGraph
from .errors import KoeeoMatchWarning
from .model import Problem
from .policy import vanished_note
from .solution import Solution, relative_gap
from .solvers import RawResult
from .status import Status, Termination

__all__ = ["to_solution"]


def _part(graph: CandidateGraph) -> str:
    """What part of the problem's graph a partial ``graph`` is, in words."""
    if not graph.k:
        return (f"the {len(graph):,} arcs built before the time limit (or Ctrl-C) stopped the candidate graph "
                "(the best of them after a Ctrl-C)")
    return (f"a part of the candidate graph, {len(graph):,} arcs capped at top_k={graph.k} (each employee's and "
            f"mission's {graph.k} best at most): the time limit (or Ctrl-C) stopped its drawing, or capped it "
            "where a full graph would not be drawn in time")


def _bounds(graph: CandidateGraph, raw: RawResult, objective: float) -> tuple[RawResult, dict[str, Any]]:
    """The result as it holds for the problem (capped graphs prove nothing for it), and the bound and
    gap on the candidate graph itself (the problem's own when it is not capped)."""
    graph_optimal = raw.status == Status.OPTIMAL
    if graph_optimal:
        graph_bound: float | None = objective
    elif raw.bound is not None:
        graph_bound = max(graph.scale.primary_bound(raw.bound), objective)
    else:
        graph_bound = None
    graph_gap = None if graph_bound is None else max(graph_bound - objective, 0.0) / max(abs(graph_bound), 1.0)
    # a forced pair missing from a part is not eligible (a part holds every eligible one): a proof for the problem
    if graph.partial and not (raw.status == Status.INFEASIBLE and raw.stats.get("forced_ineligible")):
        # the time limit or Ctrl-C stopped the graph (or capped it): its arcs are a part of the problem's
        # a solution on a part is one of the problem (feasible at best); no solution on a part says nothing
        found = raw.status in (Status.OPTIMAL, Status.FEASIBLE)
        raw = RawResult(raw.selected if found else np.zeros(0, np.int64), Status.FEASIBLE if found else Status.UNKNOWN,
                        None,
                        f"{raw.status.value} on {_part(graph)}; no bound for the full problem"
                        + (f"; {raw.message}" if raw.message else ""), raw.stats,
                        termination=Termination.TIME_LIMIT if raw.termination in
                        (Termination.COMPLETED, Termination.OPTIMAL, Termination.INFEASIBLE) else raw.termination)
    elif graph.k is not None and raw.status == Status.INFEASIBLE and not raw.stats.get("forced_ineligible"):
        # the rules cannot all hold on the capped graph: the full graph's other arcs may let them
        raw = RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None,
                        f"infeasible on the candidate graph capped at top_k={graph.k} arcs per employee and per "
                        "mission, which proves nothing for the full problem (a team may need arcs the cap left out: "
                        "solve without top_k)" + (f"; {raw.message}" if raw.message else ""), raw.stats,
                        termination=raw.termination)
    elif graph.k is not None and raw.status == Status.OPTIMAL:
        raw = RawResult(raw.selected, Status.FEASIBLE, None,
                        f"optimal on the candidate graph capped at top_k={graph.k} arcs per employee and per mission; "
                        "no bound for the full problem", raw.stats, termination=raw.termination)
    return raw, {"graph_optimal": graph_optimal, "graph_bound": graph_bound, "graph_gap": graph_gap,
                 "graph_partial": graph.partial}


def to_solution(problem: Problem, graph: CandidateGraph, raw: RawResult, method: str, *,
                candidate_seconds: float, total_seconds: float, compute_metrics: bool = True) -> Solution:
    """The Solution of a solver's result, every figure computed before it is built.

    ``metrics`` holds :func:`koeeo_match.metrics.compute`'s figures (unless
    ``compute_metrics=False``: ``pipeline`` times them as a stage of their own)
    and the solve's: objective, bound, gap, solve and candidate seconds,
    candidate arcs, top_k, and the bound and gap on the candidate graph.

    >>> import koeeo_match as km
    >>> from koeeo_match.engine import dispatch
    >>> from koeeo_match.solvers import SolveOptions
    >>> p = km.synth.city(employees=30, seed=0, rules="flow")
    >>> g = km.build_candidates(p, "max_hours")
    >>> s = to_solution(p, g, dispatch(p, g, "flow", SolveOptions()), "flow", candidate_seconds=0.0,
    ...                 total_seconds=0.0, compute_metrics=False)
    >>> s.status.value, "assigned_hours" in s.metrics, s.metrics["objective"] == s.objective
    ('optimal', False, True)
    """
    sel = np.sort(np.asarray(raw.selected, np.int64))  # arcs are in (employee, mission) order
    e, m = graph.employee[sel], graph.mission[sel]
    policy = graph.policy
    which = "primary" if graph.scale.lexicographic else "all"
    objective = float(policy.score({k: graph.terms[k][sel] for k, w in policy.weights().items() if w}, which).sum())
    raw, on_graph = _bounds(graph, raw, objective)
    if raw.status == Status.OPTIMAL:
        bound: float | None = objective
    elif raw.bound is not None and graph.k is None:  # a partial graph's result has none (_bounds)
        bound = max(graph.scale.primary_bound(raw.bound), objective)
    else:
        bound = None
    message, note = raw.message, graph.scale.collapsed
    more = raw.stats.get("vanished")  # the priced route checks its start arcs (those it drops included)
    if more is None and not graph.scale.arcs and not graph.scale.lexicographic and len(graph):
        # a scale of stand-in rows: the arcs held are checked for gains the solvers could not see
        more = vanished_note(policy, {k: graph.terms[k] for k, w in policy.weights().items() if w},
                             graph.scale.secondary_scale)
    note = "; ".join(x for x in (note, more) if x)
    if raw.stats.get("fine_secondary"):  # the flow scored the secondary terms on its own scale: its own note
        note = raw.stats.get("secondary_note") or ""
    if note:
        warnings.warn(note, KoeeoMatchWarning, stacklevel=4)
        message = "; ".join(x for x in (message, note) if x)
    gap = relative_gap(raw.status, objective, bound)
    met = _metrics.compute(problem, e, m) if compute_metrics else {}
    met.update(objective=objective, bound=bound, gap=gap, solve_seconds=total_seconds,
               candidate_seconds=candidate_seconds, candidate_arcs=len(graph), top_k=graph.k,
               graph_optimal=on_graph["graph_optimal"], graph_bound=on_graph["graph_bound"],
               graph_gap=on_graph["graph_gap"], graph_partial=on_graph["graph_partial"])
    return Solution(status=raw.status, objective=objective, bound=bound, employee_ids=problem.employees.ids[e],
                    mission_ids=problem.missions.ids[m], metrics=met, method=method, message=message,
                    employee=e, mission=m, problem=problem, policy=policy, termination=raw.termination)
