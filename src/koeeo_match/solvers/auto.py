"""``auto``: every rule, at any scale, with a proven bound.

1. If no rule of the problem defeats a flow, solve it by exact min-cost flow.
2. Otherwise split the candidate graph into independent parts: connected
   components of employees, missions and the employers whose daily cap or
   hour budget couples their staff.  Small components are packed together.
3. Per part (in parallel on a local process pool for large instances):

   - a part whose rules a flow expresses is solved by flow (optimal);
   - otherwise its flow relaxation gives an upper bound and a warm start,
     repaired by :func:`~koeeo_match.solvers.greedy.greedy_from` into a
     feasible solution, as is a second start (:func:`_warm_start`: a flow
     that keeps hours and team minimums); the better repair is hinted to
     CP-SAT (with a time budget proportional to the part's size), which
     improves it and tightens the bound; a part too large for CP-SAT is cut
     into geographic groups solved so, joined and repaired, unless the
     repair of its whole second start places more.

4. The bound of the whole is the sum of the parts' bounds, so the gap reported
   is honest.  A time limit or Ctrl-C returns the best feasible solution found
   (parts not reached are completed greedily).
"""

from __future__ import annotations

import signal
import threading
import time

import numpy as np

from .._arrays import present
from ..candidates import CandidateGraph
from ..decompose import components, pack
from ..model import Problem
from ..parallel import default_workers, run_parts
from ..solution import Status
from ._base import RawResult, SolveOptions, register
from ._structure import structure
from .cpsat import solve_cpsat
from .flow import flow_obstacles, flow_relaxation, hours_relaxation_bound, safe_capacity, solve_flow
from .greedy import greedy_from

__all__ = ["solve_auto", "split", "CPSAT_MAX_ARCS"]

#: Parts with more arcs than this are not given to CP-SAT (relaxation + repair instead).
CPSAT_MAX_ARCS = 200_000
#: Small components are packed into parts of about this many arcs.
PART_ARCS = 20_000

_INTERRUPTED = threading.Event()
_WHOLE = "whole-part repair"  # the label of a repair_only task's result


def split(problem: Problem, graph: CandidateGraph) -> list[np.ndarray]:
    """Independent parts (arrays of arc indices), largest first.

    Employees and missions are joined by their arcs, and employees to their
    employer when the employer has a daily cap or an hour budget.
    """
    E, M = graph.n_employees, graph.n_missions
    er = problem.employers
    coupling = (er.daily_cap >= 0) | np.isfinite(er.hours_budget)
    emp_of = problem.employees.employer
    linked = np.flatnonzero((emp_of >= 0) & coupling[np.maximum(emp_of, 0)]) if len(er) else np.zeros(0, np.int64)
    # employer c becomes right-hand node M + c
    left = np.concatenate([graph.employee, linked])
    right = np.concatenate([graph.mission.astype(np.int64), M + emp_of[linked].astype(np.int64)])
    n, label = components(E, M + len(er), left, right)
    comp = label[graph.employee]
    sizes = np.bincount(comp, minlength=n)
    part = pack(sizes, PART_ARCS)[comp]
    order = np.argsort(part, kind="stable")
    cuts = np.flatnonzero(np.diff(part[order])) + 1
    return sorted(np.split(order, cuts), key=lambda c: -c.size) if order.size else []


def _geo_groups(problem: Problem, graph: CandidateGraph, arcs: np.ndarray) -> list[np.ndarray]:
    """Cut a part too large for CP-SAT into groups of employees (all arcs of each employee
    in one group), ordered geographically, of at most ``CPSAT_MAX_ARCS`` arcs."""
    e = problem.employees
    ea = graph.employee[arcs]
    emps, counts = np.unique(ea, return_counts=True)
    order = np.lexsort((e.lat[emps], np.round(e.lon[emps], 1)))  # west to east bands, south to north
    emps, counts = emps[order], counts[order]
    group_of_emp = np.zeros(graph.n_employees, np.int64)
    group_of_emp[emps] = np.cumsum(counts) // CPSAT_MAX_ARCS
    g = group_of_emp[ea]
    srt = np.argsort(g, kind="stable")
    cuts = np.flatnonzero(np.diff(g[srt])) + 1
    return [arcs[c] for c in np.split(srt, cuts)]


def _relaxed_teams(problem: Problem, border: np.ndarray) -> Problem:
    """The problem with team minimums lifted on ``border`` missions (shared with other groups),
    so that a group's optimum bounds its share of the whole optimum."""
    from dataclasses import replace

    if border.size == 0:
        return problem
    mins = problem.missions.min_seats.copy()
    mins[border] = 1
    return replace(problem, missions=replace(problem.missions, min_seats=mins))


def _solve_part(ctx: tuple, arcs: np.ndarray, budget: float | None, border: np.ndarray | None = None,
                repair_only: bool = False) -> tuple[np.ndarray, RawResult, str]:
    """One part (or geographic group): ``ctx`` is (problem, graph, options, deadline), shared by
    every task (run_parts forks its workers with the tasks in memory).  ``repair_only``: just
    the repair of :func:`_warm_start` (a candidate solution for a part cut into groups)."""
    problem, graph, options, deadline = ctx
    if border is not None:
        problem = _relaxed_teams(problem, border)
    arcs = np.sort(arcs)
    sub = graph.subset(arcs)
    st = structure(problem, sub)
    late = _INTERRUPTED.is_set() or (deadline is not None and time.monotonic() >= deadline)
    if repair_only:  # a second candidate for a cut part: only while time is left
        if late:
            return arcs, RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, "no time left"), _WHOLE
        return arcs, greedy_from(problem, sub, _warm_start(problem, sub, st, deadline)), _WHOLE
    opts = SolveOptions(time_limit=budget, seed=options.seed, workers=options.workers, progress=None)
    if not flow_obstacles(problem, sub, st):
        return arcs, solve_flow(problem, sub, SolveOptions(seed=options.seed, workers=1)), "flow"
    relax = flow_relaxation(problem, sub, SolveOptions(seed=options.seed, workers=1))
    hb = hours_relaxation_bound(problem, sub, st)
    if hb is not None and relax.bound is not None:
        relax.bound = min(relax.bound, hb)
    warm = greedy_from(problem, sub, relax.selected)
    if not late:  # the second start, while time is left
        warm2 = greedy_from(problem, sub, _warm_start(problem, sub, st, deadline))
        if warm.status != Status.FEASIBLE or (warm2.status == Status.FEASIBLE and int(sub.score[warm2.selected].sum())
                                              > int(sub.score[warm.selected].sum())):
            warm = warm2
    if budget is not None and deadline is not None:  # what is left of the limit, less a reserve
        budget = min(budget, deadline - time.monotonic())
    if warm.status in (Status.INFEASIBLE,):
        return arcs, warm, "repair"
    if _INTERRUPTED.is_set() or (budget is not None and budget <= 0.05):
        return arcs, _with_bound(sub, warm, relax.bound), "relaxation+repair"
    hint = warm.selected if warm.status == Status.FEASIBLE else None
    res = solve_cpsat(problem, sub, SolveOptions(opts.time_limit, opts.seed, opts.workers, None, hint))
    if res.status == Status.INFEASIBLE:
        return arcs, res, "cpsat"
    if res.status == Status.UNKNOWN:
        return arcs, _with_bound(sub, warm, relax.bound), "relaxation+repair"
    bound = min(res.bound, relax.bound) if res.bound is not None else relax.bound
    status = res.status
    if status == Status.FEASIBLE and bound is not None and int(sub.score[res.selected].sum()) >= bound:
        status = Status.OPTIMAL
    return arcs, RawResult(res.selected, status, bound, res.message, res.stats), "cpsat"


def _warm_start(problem: Problem, sub: CandidateGraph, st, deadline: float | None = None,
                rounds: int = 4) -> np.ndarray:
    """Arcs for the repair to try first: a flow where each employee takes only as many
    missions as fit its hours whichever they are, re-solved with the teams it leaves below
    their minimum closed (a few rounds).  The flow relaxation, by contrast, lets an employee
    take as many missions as its *shortest* candidates fit and ignores team minimums, and
    its repair loses what breaks those rules (measured on a 153,495-arc every-rule part of
    France at 10 %: relaxation 139,702.5 h, repaired 118,160 h).  Past ``deadline``
    (``time.monotonic()``) no further round starts."""
    mins = problem.missions.min_seats
    active = np.arange(len(sub))
    closed = np.zeros(sub.n_missions, bool)
    selected = np.zeros(0, np.int64)
    for _ in range(rounds):
        g = sub.subset(active) if active.size < len(sub) else sub
        res = flow_relaxation(problem, g, SolveOptions(workers=1), capacity=safe_capacity(g, structure(problem, g)))
        selected = active[res.selected]
        cnt = np.bincount(sub.mission[selected], minlength=sub.n_missions)
        short = st.team & (cnt > 0) & (cnt < mins)
        if not short.any() or (deadline is not None and time.monotonic() >= deadline):
            break
        closed |= short
        active = active[~closed[sub.mission[active]]]
    return selected


def _join_groups(problem: Problem, graph: CandidateGraph, parts: list[np.ndarray], owner: list[int],
                 results: list) -> list:
    """One result per part: groups of a cut part are joined, then repaired by greedy_from
    (the groups' choices first, every rule enforced over the whole part); the bound is the
    sum of the groups' bounds (each group relaxes the coupling with the others)."""
    out = []
    for i, part in enumerate(parts):
        mine = [r for r, o in zip(results, owner) if o == i]
        whole = [r for r in mine if r[2] == _WHOLE]
        mine = [r for r in mine if r[2] != _WHOLE]
        if len(mine) == 1 and mine[0][0].size == part.size:
            out.append(mine[0])
            continue
        if any(r.status == Status.INFEASIBLE for _, r, _ in mine):
            out.append(next(x for x in mine if x[1].status == Status.INFEASIBLE))
            continue
        arcs = np.sort(part)
        sub = graph.subset(arcs)
        chosen = np.concatenate([a[r.selected] for a, r, _ in mine]) if mine else np.zeros(0, np.int64)
        first = np.searchsorted(arcs, chosen)
        joined = greedy_from(problem, sub, first)
        bounds = [r.bound for _, r, _ in mine]
        bound = None if any(b is None for b in bounds) else sum(int(b) for b in bounds)
        hb = hours_relaxation_bound(problem, sub)  # no double counting of shared missions
        if hb is not None:
            bound = hb if bound is None else min(bound, hb)
        how = "groups+repair"
        for w_arcs, w, _ in whole:  # the whole part's warm start, repaired: kept if better
            if (w.status == Status.FEASIBLE and w_arcs.size == arcs.size and
                    (joined.status != Status.FEASIBLE
                     or int(sub.score[w.selected].sum()) > int(sub.score[joined.selected].sum()))):
                joined, how = w, "repair"
        out.append((arcs, _with_bound(sub, joined, bound), how))
    return out


def _with_bound(sub: CandidateGraph, res: RawResult, bound: float | None) -> RawResult:
    if res.status != Status.FEASIBLE:
        return res
    value = int(sub.score[res.selected].sum())
    status = Status.OPTIMAL if bound is not None and value >= bound else Status.FEASIBLE
    return RawResult(res.selected, status, bound, res.message, res.stats)


def _on_sigint(signum, frame):  # pragma: no cover - exercised by hand (Ctrl-C)
    _INTERRUPTED.set()


@register("auto")
def solve_auto(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """Flow where exact; otherwise decomposition, relaxation bounds, repair and CP-SAT per part."""
    st = structure(problem, graph)
    missing = np.flatnonzero(st.forced_arc < 0)
    if missing.size:
        return solve_cpsat(problem, graph, options)  # reports the ineligible forced pair
    if not flow_obstacles(problem, graph, st):
        res = solve_flow(problem, graph, options)
        res.stats["method"] = "flow"
        return res
    parts = split(problem, graph)
    total = max(sum(p.size for p in parts), 1)
    t0 = time.perf_counter()
    # CP-SAT gets up to 85 % of the limit, shared by part size, and stops by 90 % of it (each part
    # gets what is left when it starts); joining and repairing the parts take the rest
    budgets = [None if options.time_limit is None else 0.85 * options.time_limit * p.size / total for p in parts]
    deadline = None if options.time_limit is None else time.monotonic() + 0.9 * options.time_limit
    ctx = (problem, graph, options, deadline)
    _INTERRUPTED.clear()
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGINT, _on_sigint)
    try:
        workers = options.workers or default_workers()
        # parts too large for CP-SAT are cut into geographic groups whose solutions are
        # joined and repaired below (their team minimums lifted on shared missions)
        tasks, owner = [], []
        for i, (p, b) in enumerate(zip(parts, budgets)):
            if p.size <= CPSAT_MAX_ARCS or not flow_obstacles(problem, graph.subset(p)):
                tasks.append((ctx, p, b))
                owner.append(i)
                continue
            groups = _geo_groups(problem, graph, p)
            mis_groups = np.zeros(graph.n_missions, np.int64)
            for gi, ga in enumerate(groups):
                mis_groups[present(graph.mission[ga], graph.n_missions)] += 1
            border = np.flatnonzero(mis_groups > 1)
            # and, as another candidate for the part, the repair of the whole part's warm start
            tasks.insert(0, (ctx, p, None, None, True))
            owner.insert(0, i)
            for ga in groups:
                tasks.append((ctx, ga, None if b is None else b * ga.size / p.size, border))
                owner.append(i)
        big = len(tasks) > 1 and len(graph) > 100_000
        if options.progress:
            options.progress(f"auto: {len(parts)} part(s) in {len(tasks)} task(s), {len(graph):,} arcs, "
                             f"{'parallel' if big else 'sequential'}")
        results = run_parts(_solve_part, tasks, workers if big else 1)
        results = _join_groups(problem, graph, parts, owner, results)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
    selected, bound, how = [], 0, {}
    statuses = []
    for arcs, res, used in results:
        if res.status == Status.INFEASIBLE:
            return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None, res.message, {"method": "auto"})
        statuses.append(res.status)
        selected.append(arcs[res.selected])
        bound = None if bound is None or res.bound is None else bound + int(res.bound)
        how[used] = how.get(used, 0) + 1
    if any(s == Status.UNKNOWN for s in statuses):  # a part found nothing feasible (forced pairs)
        return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, bound,
                         "no feasible solution found for every part (forced pairs)", {"method": "auto"})
    status = Status.OPTIMAL if all(s == Status.OPTIMAL for s in statuses) else Status.FEASIBLE
    msg = "" if status == Status.OPTIMAL else "not proven optimal: see bound and gap"
    if _INTERRUPTED.is_set():
        msg = "interrupted (Ctrl-C): best solution found so far"
    stats = {"method": "auto", "parts": len(parts), "how": how, "seconds": time.perf_counter() - t0}
    sel = np.concatenate(selected) if selected else np.zeros(0, np.int64)
    return RawResult(sel, status, bound, msg, stats)
