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
     CP-SAT (with a share of the time left, :func:`_shares`), which
     improves it by large-neighbourhood search and tightens the bound; a
     part too large for one CP-SAT model is repaired whole, then improved by
     our own large-neighbourhood search over geographic windows
     (:func:`_improve`), bounded by its hours relaxation.

4. The bound of the whole is the sum of the parts' bounds, so the gap reported
   is honest.  A time limit or Ctrl-C returns the best feasible solution found
   (parts not reached are completed greedily).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import replace

import numpy as np

from ..candidates import CandidateGraph
from ..decompose import components, packed_parts
from ..model import Pairs, Problem
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
#: Larger parts are improved by large-neighbourhood search (:func:`_improve`) over windows of about
#: this many free arcs, each given about WINDOW_SECONDS to CP-SAT.
LNS_ARCS = 5_000
WINDOW_SECONDS = 1.0

_INTERRUPTED = threading.Event()


def split(problem: Problem, graph: CandidateGraph) -> list[np.ndarray]:
    """Independent parts (arrays of arc indices), largest first.

    Employees and missions are joined by their arcs, and employees to their
    employer when the employer has a daily cap or an hour budget.
    """
    E, M = graph.n_employees, graph.n_missions
    er = problem.employers
    emp_of = problem.employees.employer
    linked = np.flatnonzero(_coupled(problem, emp_of))
    # employer c becomes right-hand node M + c
    left = np.concatenate([graph.employee, linked])
    right = np.concatenate([graph.mission.astype(np.int64), M + emp_of[linked].astype(np.int64)])
    label = components(E, M + len(er), left, right)[1]
    return packed_parts(label[graph.employee], PART_ARCS)


def _coupled(problem: Problem, employer: np.ndarray) -> np.ndarray:
    """For each entry of ``employer`` (an employer index, -1 for none): whether that employer has
    a daily cap or an hours budget, which couples its staff."""
    er = problem.employers
    if len(er) == 0:
        return np.zeros(employer.size, bool)
    coupling = (er.daily_cap >= 0) | np.isfinite(er.hours_budget)
    return (employer >= 0) & coupling[np.maximum(employer, 0)]


def _budget(deadline: float | None, share: float | None) -> float | None:
    """Seconds a task may search now: its ``share`` of the time left to ``deadline``."""
    return None if deadline is None else (deadline - time.monotonic()) * min(1.0, share or 1.0)


def _solve_part(ctx: tuple, arcs: np.ndarray, share: float | None,
                whole: bool = False) -> tuple[np.ndarray, RawResult, str]:
    """One part: ``ctx`` is (problem, graph, options, deadline), shared by every task
    (run_parts forks its workers with the tasks in memory).  The search gets ``share`` of the
    time left to the deadline when it starts (see :func:`_shares`).  ``whole``: a part too
    large for one CP-SAT model, repaired from :func:`_warm_start` and improved by
    :func:`_improve`."""
    problem, graph, options, deadline = ctx
    arcs = np.sort(arcs)
    sub = graph.subset(arcs)
    st = structure(problem, sub)
    late = _INTERRUPTED.is_set() or (deadline is not None and time.monotonic() >= deadline)
    if whole:  # too large for one CP-SAT model: repair, then LNS while time is left
        warm = greedy_from(problem, sub, _warm_start(problem, sub, st, deadline))
        if warm.status != Status.FEASIBLE:
            return arcs, warm, "repair"
        how = "repair"
        if not (late or _INTERRUPTED.is_set()):
            budget = _budget(deadline, share)
            until = float("inf") if budget is None else time.monotonic() + budget
            if until > time.monotonic() + 1.0:
                sel = _improve(problem, sub, warm.selected, until, options.seed, options.workers,
                               rounds=1 if deadline is None else None)
                warm, how = RawResult(sel, Status.FEASIBLE, None, warm.message, warm.stats), "repair+lns"
        bound = hours_relaxation_bound(problem, sub, st)
        if bound is None:
            bound = flow_relaxation(problem, sub, SolveOptions(seed=options.seed, workers=1)).bound
        return arcs, _with_bound(sub, warm, bound), how
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
    budget = _budget(deadline, share)
    if warm.status in (Status.INFEASIBLE,):
        return arcs, warm, "repair"
    if _INTERRUPTED.is_set() or (budget is not None and budget <= 0.05):
        return arcs, _with_bound(sub, warm, relax.bound), "relaxation+repair"
    hint = warm.selected if warm.status == Status.FEASIBLE else None
    res = solve_cpsat(problem, sub, SolveOptions(budget, options.seed, options.workers, None, hint))
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


def _improve(problem: Problem, sub: CandidateGraph, selected: np.ndarray, until: float, seed: int = 0,
             workers: int = 0, window: int | None = None, rounds: int | None = None) -> np.ndarray:
    """Large-neighbourhood search over a part too large for one CP-SAT model: employees are
    taken in geographic windows of about ``window`` arcs; for each, every arc of its employees
    is free and CP-SAT re-optimises them with every other arc fixed to ``selected`` (the fixed
    arcs that share a mission, or an employer's daily cap or budget, with a free one are in
    the model, forced, so that each rule sees its whole load).  A window's answer replaces
    the incumbent only if it scores more, so every step stays feasible.  Windows shift by a
    third between rounds so that their borders move.  Stops at ``until`` (``time.monotonic()``).
    ``rounds`` caps the passes over all windows.  Returns the arcs (indices into ``sub``) of the
    best solution.
    """
    window = window or LNS_ARCS
    e, er = problem.employees, problem.employers
    counts = np.diff(sub.ptr)
    emps = np.flatnonzero(counts)
    emps = emps[np.lexsort((e.lat[emps], np.round(e.lon[emps], 1)))]  # bands west to east
    cum = np.cumsum(counts[emps])
    emp_of = e.employer[sub.employee]
    coupled = _coupled(problem, emp_of)
    fz = problem.forced
    fkeys = np.sort(fz.employee.astype(np.int64) * sub.n_missions + fz.mission)
    keys = sub.employee.astype(np.int64) * sub.n_missions + sub.mission
    orig_forced = np.isin(keys, fkeys) if fkeys.size else np.zeros(len(sub), bool)
    inc = np.zeros(len(sub), bool)
    inc[selected] = True
    n_windows = max(1, int(-(-int(cum[-1]) // window))) if emps.size else 0
    rnd = 0
    while (n_windows and time.monotonic() < until and not _INTERRUPTED.is_set()
           and (rounds is None or rnd < rounds)):
        shift = (rnd % 3) * window // 3
        wid = (cum - 1 + shift) // window
        for w in range(int(wid.max()) + 1):
            left = until - time.monotonic()
            if left <= 0.2 or _INTERRUPTED.is_set():
                break
            in_w = np.zeros(sub.n_employees, bool)
            in_w[emps[wid == w]] = True
            free = in_w[sub.employee]
            if not free.any():
                continue
            touched_m = np.zeros(sub.n_missions, bool)
            touched_m[sub.mission[free]] = True
            touched_c = np.zeros(max(len(er), 1), bool)
            touched_c[emp_of[free & coupled]] = True
            fixed = inc & ~free & (touched_m[sub.mission] | (coupled & touched_c[np.maximum(emp_of, 0)]))
            # every mission in the model gets its whole incumbent crew (seats, team minimums)
            touched_m[sub.mission[fixed]] = True
            fixed |= inc & ~free & touched_m[sub.mission]
            arcs = np.flatnonzero(free | fixed)
            g2 = sub.subset(arcs)
            force = fixed[arcs] | orig_forced[arcs]
            p2 = replace(problem, forced=Pairs(g2.employee[force], g2.mission[force], np.zeros(int(force.sum()))))
            before = int(sub.score[arcs][inc[arcs]].sum())
            limit = None if until == float("inf") else min(left, max(1.0, WINDOW_SECONDS * int(free.sum()) / window))
            res = solve_cpsat(p2, g2, SolveOptions(limit, seed, workers, None, np.flatnonzero(inc[arcs])))
            if res.status in (Status.OPTIMAL, Status.FEASIBLE) and int(g2.score[res.selected].sum()) > before:
                inc[arcs] = False
                inc[arcs[res.selected]] = True
        rnd += 1
    return np.flatnonzero(inc)


def _shares(tasks: list[tuple], workers: int) -> list[tuple]:
    """Each task's share of the time left when it starts: the pool starts tasks in order, ``workers``
    at a time, so task *i* gets ``workers x size_i / (sizes of tasks i, i+1, ...)`` of what is
    left (at most all of it).  Budgets then follow what the earlier tasks really used, and the
    last tasks do not stop early while time is left."""
    sizes = np.array([t[1].size for t in tasks], np.float64)
    rest = np.cumsum(sizes[::-1])[::-1]
    out = []
    for t, s, r in zip(tasks, sizes.tolist(), rest.tolist()):
        out.append((t[0], t[1], min(1.0, workers * s / max(r, 1.0)), *t[3:]))
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
    start, t0 = time.monotonic(), time.perf_counter()
    st = structure(problem, graph)
    missing = np.flatnonzero(st.forced_arc < 0)
    if missing.size:
        return solve_cpsat(problem, graph, options)  # reports the ineligible forced pair
    if not flow_obstacles(problem, graph, st):
        res = solve_flow(problem, graph, options)
        res.stats["method"] = "flow"
        return res
    parts = split(problem, graph)
    # the parts' searches end by 90 % of the limit; joining and repairing the parts take the rest
    deadline = None if options.time_limit is None else start + 0.9 * options.time_limit
    ctx = (problem, graph, options, deadline)
    _INTERRUPTED.clear()
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGINT, _on_sigint)
    try:
        workers = options.workers or default_workers()
        # parts too large for one CP-SAT model: repaired whole, then improved by LNS (_improve)
        tasks = []
        for p in parts:
            whole = p.size > CPSAT_MAX_ARCS and bool(flow_obstacles(problem, graph.subset(p)))
            tasks.append((ctx, p, None, whole))
        big = len(tasks) > 1 and len(graph) > 100_000
        tasks = _shares(tasks, workers if big else 1)
        if options.progress:
            options.progress(f"auto: {len(parts)} part(s) in {len(tasks)} task(s), {len(graph):,} arcs, "
                             f"{'parallel' if big else 'sequential'}")
        results = run_parts(_solve_part, tasks, workers if big else 1)
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
