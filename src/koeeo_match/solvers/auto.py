"""``auto``: every rule, at any scale, with a proven bound.

1. If no rule of the problem defeats a flow, solve it by exact min-cost flow.
2. Otherwise split the candidate graph into parts (:func:`split`): connected
   components of employees, missions and the employers whose daily cap or
   hour budget couples their staff.  A component above ``SPLIT_ARCS`` is cut
   into the components of its arcs alone, and the caps and budgets its parts
   share are apportioned between them (:func:`apportion`).  Small components
   are packed together.  Parts run on a local process pool for large
   instances, in two phases:

   - **bounds** (:func:`_relax_part`): the LP relaxation of each part
     (:func:`~koeeo_match.solvers.lp.lp_relaxation`, with the employers'
     whole caps, so it bounds the part whatever its share), or the flow
     optimum of a part a flow solves exactly.  The LP's values then
     apportion the shared caps;
   - **solutions** (:func:`_solve_part`, with a share of the time left,
     :func:`_shares`): a start repaired by
     :func:`~koeeo_match.solvers.greedy.greedy_from` (:func:`_best_start`);
     then, on an instance above ``PARALLEL_ARCS``, CP-SAT on the part's *core*
     (the LP's support and the start) on a coarse objective (:func:`_coarse`),
     single-threaded, under a time limit by large-neighbourhood search alone
     for all the part's time.  A smaller instance, a part without a time
     limit, or a core proven optimal goes on to CP-SAT on the whole part,
     or, above ``CPSAT_MAX_ARCS``, to our own large-neighbourhood search over
     geographic windows (:func:`_improve`).

3. The bound of the whole is the sum of the parts' bounds (CP-SAT's own when
   it is tighter on a part that shares no cap), so the gap reported is
   honest.  A time limit or Ctrl-C returns the best feasible solution found
   (parts not reached keep their repaired start).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import replace

import numpy as np

from .._arrays import dense, first_of
from ..candidates import CandidateGraph
from ..decompose import components, packed_parts
from ..model import Pairs, Problem
from ..parallel import default_workers, run_parts
from ..status import Status, Termination
from ._base import RawResult, SolveOptions, register
from ._structure import group_ids, structure
from .cpsat import solve_cpsat
from .flow import flow_obstacles, flow_relaxation, hours_relaxation_bound, safe_capacity, solve_flow
from .greedy import greedy_from
from .lp import lp_relaxation

__all__ = ["solve_auto", "split", "CPSAT_MAX_ARCS"]

#: Parts with more arcs than this are not given to CP-SAT (relaxation + repair instead).
CPSAT_MAX_ARCS = 200_000
#: Small components are packed into parts of about this many arcs.
PART_ARCS = 20_000
#: Past the deadline, a part's LP relaxation still gets this many seconds (then it has no bound).
LP_MIN_SECONDS = 1.0
#: Coupled components with more arcs than this are split by :func:`split` (shared caps apportioned).
SPLIT_ARCS = 250_000
#: A search step (CP-SAT on a part's core) starts only with at least this many seconds left.
MIN_SEARCH = 0.5
#: Instances with more arcs than this run their parts on a process pool, and search each part's
#: core (see :func:`_solve_part`); smaller ones give CP-SAT each whole part.
PARALLEL_ARCS = 100_000
#: Secondary levels (each side of zero) of the coarse objective that phase 2 searches first
#: (:func:`_coarse`).
COARSE_LEVELS = 4
#: Larger parts are improved by large-neighbourhood search (:func:`_improve`) over windows of about
#: this many free arcs, each given about WINDOW_SECONDS to CP-SAT.
LNS_ARCS = 5_000
WINDOW_SECONDS = 1.0

_INTERRUPTED = threading.Event()


def split(problem: Problem, graph: CandidateGraph) -> list[np.ndarray]:
    """Parts (arrays of arc indices), largest first.

    Employees and missions are joined by their arcs, and employees to their
    employer when the employer has a daily cap or an hour budget: such
    components are independent.  A component larger than ``SPLIT_ARCS`` (an
    employer with staff in many départements joins them) is split into the
    components of its arcs alone; the caps and budgets its parts then share
    are apportioned between them by :func:`apportion`.
    """
    E, M = graph.n_employees, graph.n_missions
    er = problem.employers
    emp_of = problem.employees.employer
    linked = np.flatnonzero(_coupled(problem, emp_of))
    # employer c becomes right-hand node M + c
    left = np.concatenate([graph.employee, linked])
    right = np.concatenate([graph.mission.astype(np.int64), M + emp_of[linked].astype(np.int64)])
    comp = components(E, M + len(er), left, right)[1][graph.employee]
    big = np.bincount(comp) > SPLIT_ARCS
    # a component holding a forced pair stays whole: a share of a cap could leave its part too
    # little room for the pair (the problem would be wrongly found infeasible)
    fa = structure(problem, graph).forced_arc
    big[comp[fa[fa >= 0]]] = False
    if big.any():
        on = np.flatnonzero(big[comp])
        inner = components(E, M, graph.employee[on], graph.mission[on])[1][graph.employee[on]]
        comp = comp.astype(np.int64)
        comp[on] = int(comp.max()) + 1 + inner
        comp = dense(comp, int(comp.max()) + 1)[1]
    return packed_parts(comp, PART_ARCS)


def apportion(problem: Problem, graph: CandidateGraph, parts: list[np.ndarray],
              x: np.ndarray | None = None) -> list[tuple | None]:
    """Per part: ``None``, or ``(employers, daily_cap, hours_budget)`` giving that part its share
    of each employer's cap and budget that can bind and that several parts share (resource-
    directive decomposition): shares sum to the employer's own, so parts that each keep their
    share keep the employer's.  Shares follow, by largest remainders, the LP values ``x`` (per
    arc): a daily cap in proportion to each part's busiest date for that employer, a budget to
    its LP hours; without ``x``, to the employer's candidate employees and their hours.
    """
    out: list[tuple | None] = [None] * len(parts)
    er = problem.employers
    if len(parts) < 2 or len(er) == 0:
        return out
    part_arc = np.empty(len(graph), np.int64)
    for i, p in enumerate(parts):
        part_arc[p] = i
    emp_of = problem.employees.employer
    arc_emp = emp_of[graph.employee]
    on = np.flatnonzero(_coupled(problem, arc_emp))
    if on.size == 0:
        return out
    st = structure(problem, graph)
    c, pi = arc_emp[on].astype(np.int64), part_arc[on]
    pair, n_pair = group_ids(c, pi)  # (employer, part) pairs
    first = first_of(pair, n_pair)
    pc, pp = c[first], pi[first]
    shared = np.bincount(pc, minlength=len(er))[pc] > 1
    if not shared.any():
        return out
    # candidate employees and their hours per pair (an employee's arcs all lie in one part)
    new_emp = np.ones(on.size, bool)
    new_emp[1:] = graph.employee[on][1:] != graph.employee[on][:-1]
    n_emp = np.bincount(pair, weights=new_emp, minlength=n_pair)
    emp_h = np.bincount(pair, weights=new_emp * st.emp_hours[graph.employee[on]], minlength=n_pair)
    if x is None:
        w_cap, w_bud = n_emp, emp_h
    else:
        xo = x[on].astype(np.float64)
        w_bud = np.bincount(pair, weights=xo * st.arc_hours[on], minlength=n_pair)
        w_cap = np.zeros(n_pair)
        dated = st.cd[on] >= 0
        if dated.any():
            day, n_day = group_ids(st.cd[on][dated], pi[dated])  # (employer-date, part)
            use = np.bincount(day, weights=xo[dated], minlength=n_day)
            day_pair = np.zeros(n_day, np.int64)
            day_pair[day] = pair[dated]
            np.maximum.at(w_cap, day_pair, use)
        # a tie-breaker in proportion to the candidates, for parts the LP leaves unused
        w_cap, w_bud = w_cap + 1e-6 * n_emp, w_bud + 1e-6 * emp_h
    n_tot = np.bincount(pc, weights=n_emp, minlength=len(er))
    h_tot = np.bincount(pc, weights=emp_h, minlength=len(er))
    budget = np.where(np.isfinite(er.hours_budget), np.round(np.nan_to_num(er.hours_budget, posinf=0) * st.unit), -1)
    cap_binds = (er.daily_cap >= 0) & (n_tot > er.daily_cap)
    bud_binds = (budget >= 0) & (h_tot > budget)
    dc = _largest_remainder(pc, w_cap, er.daily_cap.astype(np.int64))
    hb = _largest_remainder(pc, w_bud, budget.astype(np.int64))
    for i in np.unique(pp[shared & (cap_binds[pc] | bud_binds[pc])]).tolist():
        k = np.flatnonzero((pp == i) & shared)
        cap = np.where(cap_binds[pc[k]], dc[k], er.daily_cap[pc[k]])
        bud = np.where(bud_binds[pc[k]], hb[k] / st.unit, er.hours_budget[pc[k]])
        out[i] = (pc[k], cap.astype(np.int32), bud)
    return out


def _largest_remainder(owner: np.ndarray, weight: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Integer shares of ``total[owner]`` in proportion to ``weight``, summing to the total exactly
    (largest remainders first; ties by position)."""
    w_sum = np.bincount(owner, weights=weight, minlength=total.size)
    quota = np.where(w_sum[owner] > 0, np.maximum(total[owner], 0) * weight / np.maximum(w_sum[owner], 1e-300), 0.0)
    share = np.floor(quota).astype(np.int64)
    left = np.maximum(total, 0) - np.bincount(owner, weights=share, minlength=total.size).astype(np.int64)
    order = np.lexsort((np.arange(owner.size), -(quota - share), owner))
    o = owner[order]
    start = np.searchsorted(o, o, side="left")
    rank = np.arange(o.size) - start
    share[order[rank < left[o]]] += 1
    return share


def _restricted(problem: Problem, caps: tuple | None) -> Problem:
    """The problem with a part's share of the shared caps and budgets (see :func:`apportion`)."""
    if caps is None:
        return problem
    idx, cap, bud = caps
    er = problem.employers
    dc, hb = er.daily_cap.copy(), er.hours_budget.copy()
    dc[idx], hb[idx] = cap, bud
    return replace(problem, employers=replace(er, daily_cap=dc, hours_budget=hb))


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


def _relax_part(ctx: tuple, arcs: np.ndarray) -> tuple[int | None, np.ndarray]:
    """Phase 1 of a part: its bound and LP values per arc, on the problem with the employers'
    whole caps (a relaxation of the part's share, :func:`apportion`).  A part that a flow
    solves exactly gets the flow's optimum instead (its arcs as LP values).  An LP stopped by
    the deadline (after at least ``LP_MIN_SECONDS``) leaves the part without a bound
    (``None``), and so the whole."""
    problem, graph, options, deadline = ctx
    sub = graph.subset(np.sort(arcs))
    st = structure(problem, sub)
    if not flow_obstacles(problem, sub, st):
        res = solve_flow(problem, sub, SolveOptions(seed=options.seed, workers=1))
        x = np.zeros(len(sub), np.float32)
        x[res.selected] = 1.0
        return res.bound, x
    # the LP relaxation (team minimums linked to their volunteers); should HiGHS fail, the flows'
    # bound.  An LP gets at least LP_MIN_SECONDS: past the deadline, a part whose LP takes longer
    # is left without a bound (the flows' bounds would take longer still)
    left = None if deadline is None else max(deadline - time.monotonic(), LP_MIN_SECONDS)
    t0 = time.monotonic()
    bound, x = lp_relaxation(problem, sub, st, left)
    if bound is None:
        if left is not None and time.monotonic() - t0 >= left:
            return None, None
        return _flow_bound(problem, sub, st, options.seed), None
    return bound, x.astype(np.float32)


def _solve_part(ctx: tuple, arcs: np.ndarray, share: float | None, whole: bool = False,
                caps: tuple | None = None, bound: int | None = None,
                x: np.ndarray | None = None) -> tuple[np.ndarray, RawResult, str]:
    """Phase 2 of a part: ``ctx`` is (problem, graph, options, deadline), shared by every task
    (run_parts forks its workers with the tasks in memory).  The search gets ``share`` of the
    time left to the deadline when it starts (see :func:`_shares`).  ``whole``: a part too
    large for one CP-SAT model, repaired and improved by :func:`_improve`.  ``caps``: the
    part's share of the caps and budgets it shares with other parts (:func:`apportion`),
    which its solution keeps.  ``bound`` and ``x``: from :func:`_relax_part`."""
    original, graph, options, deadline = ctx
    problem = _restricted(original, caps)
    arcs = np.sort(arcs)
    sub = graph.subset(arcs)
    st = structure(problem, sub)
    late = _INTERRUPTED.is_set() or (deadline is not None and time.monotonic() >= deadline)
    if not whole and not flow_obstacles(problem, sub, st):  # exact (and then equal to its bound)
        return arcs, solve_flow(problem, sub, SolveOptions(seed=options.seed, workers=1)), "flow"
    budget = _budget(deadline, share)
    t_end = None if budget is None else time.monotonic() + budget  # this part's time is up
    # a large instance under a time limit: a single flow round on the whole part, as the core
    # search makes better use of the time (every rule at 10 %, 75 s: gap 0.81 %; 0.91 % when the
    # flow rounds and the LP-support start may take a twelfth of the part's time, 1.05 % a third).
    # A small instance: every round and both starts (Bretagne 2,000, 5 s: 6,814.5 h against 6,706)
    large = len(graph) > PARALLEL_ARCS
    warm = _best_start(problem, sub, st, x, time.monotonic() if late or (large and budget is not None) else t_end,
                       late)
    if warm.status == Status.INFEASIBLE or (whole and warm.status != Status.FEASIBLE):
        return arcs, warm, "repair"
    feasible = warm.status == Status.FEASIBLE
    if feasible and (late or _INTERRUPTED.is_set() or _with_bound(sub, warm, bound).status == Status.OPTIMAL):
        return arcs, _with_bound(sub, warm, bound), "lp+repair"
    how = "lp+repair"
    value = int(sub.score[warm.selected].sum()) if feasible else None
    # 1. a large instance: CP-SAT on the part's core, the arcs the LP uses and the start's (a
    #    model a few times smaller), single-threaded (the parts run in parallel), on the coarse
    #    objective (_coarse), under a time limit by LNS alone for all the part's time.  On the
    #    51,705-arc part (12,246-arc core), one thread, LNS alone: 0.72 / 0.59 / 0.44 % from the
    #    LP's hours after 1 / 3 / 8 s; CP-SAT's portfolio on the core: 0.83 % at 3 s; on the
    #    whole part, two threads: 1.12 % at 2 s, 1.07 % at 8 s
    if large and feasible and x is not None:
        core = np.union1d(np.flatnonzero(x > 1e-6), warm.selected)
        left = None if t_end is None else t_end - time.monotonic()
        if core.size < len(sub) and (left is None or left > MIN_SEARCH) and not _INTERRUPTED.is_set():
            sel, proven = _search(problem, _coarse(sub).subset(core), np.searchsorted(core, warm.selected), left,
                                  replace(options, workers=1), lns_only=left is not None)
            if sel is not None and int(sub.score[core[sel]].sum()) > value:
                warm = RawResult(core[sel], Status.FEASIBLE, None, warm.message, warm.stats)
                value, how = int(sub.score[warm.selected].sum()), "lp+core"
            if not proven and left is not None:  # the part's time is up (LNS alone rarely proves)
                return arcs, _with_bound(sub, warm, bound), how
    # 2. the whole part, exact scores, from the best solution so far: in a small instance (CP-SAT
    #    often proves it within seconds), or after the core without a time limit or once proven
    left = None if t_end is None else t_end - time.monotonic()
    if (left is not None and left <= 1.0) or _INTERRUPTED.is_set() or \
            (feasible and _with_bound(sub, warm, bound).status == Status.OPTIMAL):
        return arcs, _with_bound(sub, warm, bound), how
    if whole:  # too large for one CP-SAT model: LNS windows
        sel = _improve(problem, sub, warm.selected, float("inf") if left is None else time.monotonic() + left,
                       options.seed, rounds=1 if deadline is None else None)
        warm = RawResult(sel, Status.FEASIBLE, None, warm.message, warm.stats)
        return arcs, _with_bound(sub, warm, bound), how + "+lns"
    hint = warm.selected if feasible else None  # else (forced pairs the repair could not place) CP-SAT alone
    res = solve_cpsat(problem, sub, SolveOptions(left, options.seed, options.workers, None, hint))
    if res.status == Status.INFEASIBLE:
        if caps is not None:  # proven for the part's share of the caps only: not a proof for the problem
            return arcs, RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, res.message), how + "+cpsat"
        return arcs, res, "cpsat"
    if res.status == Status.UNKNOWN:
        return arcs, _with_bound(sub, warm, bound), how
    if caps is not None:  # CP-SAT's bound and proof hold for the part's share of the caps only
        return arcs, _with_bound(sub, RawResult(res.selected, Status.FEASIBLE, None, res.message, res.stats),
                                 bound), how + "+cpsat"
    if res.bound is not None:
        bound = res.bound if bound is None else min(res.bound, bound)
    status = res.status
    if status == Status.FEASIBLE and bound is not None and int(sub.score[res.selected].sum()) >= bound:
        status = Status.OPTIMAL
    return arcs, RawResult(res.selected, status, bound, res.message, res.stats), how + "+cpsat"


def _search(problem: Problem, g: CandidateGraph, hint: np.ndarray, limit: float | None,
            options: SolveOptions, lns_only: bool = False) -> tuple[np.ndarray | None, bool]:
    """(A better solution of ``g`` from the feasible ``hint`` (arc indices into ``g``) within
    ``limit`` seconds, whether it is proven optimal for ``g``): CP-SAT, or LNS windows
    (:func:`_improve`, never a proof) above ``CPSAT_MAX_ARCS``."""
    if len(g) > CPSAT_MAX_ARCS:
        until = float("inf") if limit is None else time.monotonic() + limit
        return _improve(problem, g, hint, until, options.seed, rounds=1 if limit is None else None), False
    res = solve_cpsat(problem, g, SolveOptions(limit, options.seed, options.workers, None, hint), lns_only)
    return (res.selected if res.status in (Status.OPTIMAL, Status.FEASIBLE) else None), res.status == Status.OPTIMAL


def _coarse(sub: CandidateGraph, levels: int = COARSE_LEVELS) -> CandidateGraph:
    """``sub`` with the scores CP-SAT searches first, for a lexicographic policy: the primary
    objective, then the secondary one rounded to ``levels`` steps each side of zero (still
    lexicographic: the multiplier exceeds any difference of secondary totals).  CP-SAT's
    large-neighbourhood search spends its time on the full-resolution tie-breaks otherwise:
    on a 51,705-arc every-rule part at 10 %, 15 s from the same start ended 1.05 % from the
    LP's hours with the exact scores, 1.03 % with 64 levels, 0.56 % with 4 levels and 0.53 %
    with the hours alone (whose secondary total was 11 % lower than with 4 levels)."""
    sc = sub.scale
    if not (sc.lexicographic and sc.multiplier > 1) or len(sub) == 0:
        return sub
    mult = 2 * levels * len(sub) + 1
    if mult >= sc.multiplier:  # only if coarser than the scores themselves
        return sub
    prim = (sub.score + sc.multiplier // 2) // sc.multiplier
    sec = sub.score - prim * sc.multiplier
    top = int(np.abs(sec).max())
    step = np.rint(sec * (levels / top)).astype(np.int64) if top else np.zeros(len(sub), np.int64)
    return replace(sub, score=prim * mult + step)


def _flow_bound(problem: Problem, sub: CandidateGraph, st, seed: int) -> int | None:
    """The flow relaxations' bound (the tighter of the two): used only if the LP fails."""
    hb = hours_relaxation_bound(problem, sub, st)
    fb = flow_relaxation(problem, sub, SolveOptions(seed=seed, workers=1)).bound
    return fb if hb is None else (hb if fb is None else min(int(fb), hb))


def _best_start(problem: Problem, sub: CandidateGraph, st, x: np.ndarray | None,
                until: float | None, late: bool = False) -> RawResult:
    """The better of two feasible starts, each repaired by :func:`greedy_from`:
    :func:`_warm_start` (flow rounds until ``until``) on the whole part and on the LP's support
    only.  The arcs the LP takes (``x >= 1/2``), repaired, are the start only when ``late`` (a
    single repair) or when the others fail.  Measured against the LP bound on two every-rule
    parts at 10 % (LP arcs / whole part / LP support): 3.11 / 2.73 / 1.64 % (52,336 arcs) and
    2.71 / 1.15 / 1.32 % (51,705 arcs); keeping the LP start as a third candidate changed the
    every-rule gap at 10 % and 75 s by 0.001 point, for a third more repair time."""
    support = None if x is None else np.flatnonzero(x > 1e-6)
    if late and support is not None and support.size:
        return greedy_from(problem, sub, np.flatnonzero(x >= 0.5))
    starts = [greedy_from(problem, sub, _warm_start(problem, sub, st, until))]
    if support is not None and 0 < support.size < len(sub) and (until is None or time.monotonic() < until):
        g = sub.subset(support)
        starts.append(greedy_from(problem, sub, support[_warm_start(problem, g, structure(problem, g), until)]))
    if support is not None and support.size and not any(r.status == Status.FEASIBLE for r in starts):
        starts.append(greedy_from(problem, sub, np.flatnonzero(x >= 0.5)))
    ok = [r for r in starts if r.status == Status.FEASIBLE]
    if not ok:
        return starts[-1]
    return max(ok, key=lambda r: int(sub.score[r.selected].sum()))


def _warm_start(problem: Problem, sub: CandidateGraph, st, deadline: float | None = None,
                rounds: int = 4) -> np.ndarray:
    """Arcs for the repair to try first: a flow where each employee takes only as many
    missions as fit its hours whichever they are, re-solved with the teams it leaves below
    their minimum closed (a few rounds).  The flow relaxation, by contrast, lets an employee
    take as many missions as its *shortest* candidates fit and ignores team minimums, and
    its repair loses what breaks those rules (measured on a 153,495-arc every-rule part of
    France at 10 %: relaxation 139,702.5 h, repaired 118,160 h).  The flows count the primary
    objective alone.  Past ``deadline`` (``time.monotonic()``) no further round starts."""
    mins = problem.missions.min_seats
    sc = sub.scale
    if sc.lexicographic and sc.multiplier > 1:  # hours alone: small costs make the flows fast
        # (501,322-arc part, 4 rounds: 16.9 s against 28.4 s, 0.2 % fewer hours once repaired)
        sub = replace(sub, score=(sub.score + sc.multiplier // 2) // sc.multiplier)
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
    cnt = np.bincount(sub.mission[selected], minlength=sub.n_missions)
    short = st.team & (cnt > 0) & (cnt < mins)
    return selected[~short[sub.mission[selected]]]  # teams still short after the last round: left out


def _improve(problem: Problem, sub: CandidateGraph, selected: np.ndarray, until: float, seed: int = 0,
             workers: int = 1, window: int | None = None, rounds: int | None = None) -> np.ndarray:
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


@register("auto", supports="all")
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
        big = len(parts) > 1 and len(graph) > PARALLEL_ARCS
        n_proc = workers if big else 1
        if options.progress:
            options.progress(f"auto: {len(parts)} part(s), {len(graph):,} arcs, "
                             f"{'parallel' if big else 'sequential'}; LP bounds ...")
        # phase 1: every part's bound and LP values, which apportion the caps parts share
        relaxed = run_parts(_relax_part, [(ctx, p) for p in parts], n_proc)
        x = np.zeros(len(graph), np.float32)
        for p, (_, xp) in zip(parts, relaxed):
            if xp is not None:
                x[np.sort(p)] = xp
        if options.progress:
            options.progress(f"auto: LP bounds in {time.monotonic() - start:.1f} s; repairing and improving the parts")
        # phase 2: a feasible solution per part; parts too large for one CP-SAT model are
        # repaired whole, then improved by LNS (_improve)
        tasks = []
        for p, caps, (b, xp) in zip(parts, apportion(problem, graph, parts, x), relaxed):
            whole = p.size > CPSAT_MAX_ARCS and bool(flow_obstacles(_restricted(problem, caps), graph.subset(p)))
            tasks.append((ctx, p, None, whole, caps, b, xp))
        del x
        tasks = _shares(tasks, n_proc)
        results = run_parts(_solve_part, tasks, n_proc)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
        interrupted = _INTERRUPTED.is_set()
        _INTERRUPTED.clear()  # for later direct calls (e.g. _improve)
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
                         "no feasible solution found for every part (forced pairs)", {"method": "auto"},
                         termination=Termination.of_parts((r.termination for _, r, _ in results),
                                                          interrupted=interrupted, out_of_time=deadline is not None))
    status = Status.OPTIMAL if all(s == Status.OPTIMAL for s in statuses) else Status.FEASIBLE
    msg = "" if status == Status.OPTIMAL else "not proven optimal: see bound and gap"
    if interrupted:
        msg = "interrupted (Ctrl-C): best solution found so far"
    stats = {"method": "auto", "parts": len(parts), "how": how, "seconds": time.perf_counter() - t0}
    sel = np.concatenate(selected) if selected else np.zeros(0, np.int64)
    return RawResult(sel, status, bound, msg, stats,  # a time limit: auto spends it on the parts it has not proven
                     termination=Termination.of_parts((r.termination for _, r, _ in results), interrupted=interrupted,
                                                      out_of_time=deadline is not None))
