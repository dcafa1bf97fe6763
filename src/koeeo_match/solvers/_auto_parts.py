"""``auto``'s work on one part, in two phases (the tasks of its process pool).

- :func:`relax_part`: the part's bound and LP values (phase 1);
- :func:`solve_part`: a feasible solution of the part, under its share of the
  caps it shares with other parts, improved while its time lasts (phase 2).

Every task gets the same :class:`Context` (the pool's workers are forked with
the tasks in memory) and its :class:`~koeeo_match.decompose.Part`; it returns
part-local arcs, which the caller maps back with ``part.to_whole``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from ..candidates import CandidateGraph
from ..decompose import Part
from ..model import Problem
from ..status import Status, Termination
from ._auto_clock import FLOW_SECONDS_PER_ARC, GREEDY_SECONDS_PER_ARC, INTERRUPTED, budget, estimate, fits, stopped
from ._auto_mip import integer_bound, mip_search
from ._auto_search import coarse, improve, search
from ._auto_split import restricted
from ._auto_starts import best_start
from ._base import RawResult, SolveOptions
from ._structure import Structure, structure
from .cpsat import solve_cpsat
from .flow import defeats_flow, flow_relaxation, hours_relaxation_bound, solve_flow
from .greedy import greedy_from
from .lp import lp_within, quick_bound

__all__ = ["Limits", "Context", "relax_part", "solve_part", "with_bound"]


@dataclass(frozen=True)
class Limits:
    """Sizes and times that steer the search of a part (``auto``'s constants of the same names)."""

    cpsat_max_arcs: int  # parts with more arcs are improved by LNS windows, not one CP-SAT model
    parallel_arcs: int  # instances with more arcs search each part's core first
    min_search: float  # a core search starts only with at least this many seconds left
    lp_share: float  # under a time limit, the LPs of phase 1 end by this share of the parts' time
    mip_arcs: int = 0  # parts with at most this many arcs take the MIP route (module _auto_mip)


@dataclass(frozen=True, eq=False)
class Context:
    """What every task of one ``auto`` solve shares."""

    problem: Problem
    graph: CandidateGraph  # the whole candidate graph
    options: SolveOptions
    deadline: float | None  # time.monotonic() by which the parts' searches end
    limits: Limits
    whole_arcs: int | None = None  # arcs of the whole instance, when ``graph`` is one part's (``_auto_remote``)
    start: float | None = None  # time.monotonic() when the solve started (the LPs' share counts from it)
    greedy: np.ndarray | None = None  # arcs of the whole's feasible greedy solution, if computed

    @property
    def n_arcs(self) -> int:
        """Arcs of the whole instance (its size steers every part's search)."""
        return len(self.graph) if self.whole_arcs is None else self.whole_arcs

    def lp_deadline(self) -> float | None:
        """When phase 1's LPs must end: ``lp_share`` of the time from the start to the deadline."""
        if self.deadline is None:
            return None
        start = self.deadline if self.start is None else self.start
        return start + self.limits.lp_share * (self.deadline - start)


def part_graph(graph: CandidateGraph, part: Part) -> CandidateGraph:
    """The part's own graph; the whole one itself when the part holds every arc (its structure,
    already computed, is then reused: 1 s at 2 M arcs)."""
    return graph if len(part) == len(graph) else graph.subset(part.arcs)


def relax_part(ctx: Context, part: Part) -> tuple[int | None, np.ndarray | None]:
    """Phase 1 of a part: its bound and LP values per part arc, on the problem with the employers'
    whole caps (a relaxation of the part's share, :func:`~._auto_split.apportion`).  A part that
    a flow solves exactly gets the flow's optimum instead (its arcs as LP values).  Under a time
    limit, the LP runs only if it can end by ``ctx.lp_deadline()`` (:func:`~.lp.lp_within`), the
    flow only if its estimate fits; otherwise, or when HiGHS' time runs out, or after Ctrl-C, the
    part's bound is the one-pass :func:`~.lp.quick_bound` (and it has no LP values)."""
    problem, options = ctx.problem, ctx.options
    deadline = ctx.lp_deadline()
    sub = part_graph(ctx.graph, part)
    st = structure(problem, sub)
    if not defeats_flow(problem, sub, st):
        if INTERRUPTED.is_set() or not fits(deadline, estimate(FLOW_SECONDS_PER_ARC, len(sub))):
            return quick_bound(problem, sub, st), None
        res = solve_flow(problem, sub, SolveOptions(seed=options.seed, workers=1))
        taken = np.zeros(len(sub), np.float32)
        taken[res.selected] = 1.0
        return _integral(res.bound), taken
    # the LP relaxation (team minimums linked to their volunteers); should HiGHS fail without a
    # time limit, the flows' bound
    bound, x = lp_within(problem, sub, st, deadline)
    if bound is None:
        if deadline is not None or INTERRUPTED.is_set():  # no time for the flows' bound either
            return quick_bound(problem, sub, st), None
        return _flow_bound(problem, sub, st, options.seed), None
    assert x is not None  # lp_relaxation gives both or neither
    return bound, x.astype(np.float32)


def _flow_bound(problem: Problem, sub: CandidateGraph, st: Structure, seed: int) -> int | None:
    """The flow relaxations' bound (the tighter of the two): used only if the LP fails."""
    hb = hours_relaxation_bound(problem, sub, st)
    fb = _integral(flow_relaxation(problem, sub, SolveOptions(seed=seed, workers=1)).bound)
    return fb if hb is None else (hb if fb is None else min(fb, hb))


def _integral(bound: float | None) -> int | None:
    """An upper bound on a sum of integer scores, as an int: integral already (a flow's optimum is
    its total score; CP-SAT's objective has integer coefficients), and flooring any upper bound on
    an integer keeps it one."""
    return None if bound is None else math.floor(bound)


def solve_part(ctx: Context, part: Part, share: float | None, whole: bool = False, caps: tuple | None = None,
               bound: int | None = None, x: np.ndarray | None = None) -> tuple[RawResult, str]:
    """Phase 2 of a part: (its solution, in part-local arcs; how it was found).  The search gets
    ``share`` of the time left to the deadline when it starts (:func:`~._auto_clock.shares`).
    ``whole``: a part too large for one CP-SAT model, repaired and improved by LNS windows
    (:func:`~._auto_search.improve`).  ``caps``: the part's share of the caps and budgets it
    shares with other parts (:func:`~._auto_split.apportion`), which its solution keeps.
    ``bound`` and ``x``: from :func:`relax_part`.

    A start repaired by the greedy (:func:`~._auto_starts.best_start`); then, on an instance
    above ``parallel_arcs``, CP-SAT on the part's core (:func:`_search_core`); then, in a small
    instance, without a time limit, or once the core is proven optimal, the whole part
    (:func:`_search_whole`)."""
    problem = restricted(ctx.problem, caps)
    sub = part_graph(ctx.graph, part) if caps is None else ctx.graph.subset(part.arcs)
    st = structure(problem, sub)
    late = stopped(ctx.deadline)
    seconds = budget(ctx.deadline, share)
    t_end = None if seconds is None else time.monotonic() + seconds  # this part's time is up
    if not whole and not defeats_flow(problem, sub, st):  # exact (and then equal to its bound)
        if not late and fits(t_end, estimate(FLOW_SECONDS_PER_ARC, len(sub))):
            return solve_flow(problem, sub, SolveOptions(seed=ctx.options.seed, workers=1)), "flow"
        return with_bound(sub, greedy_from(problem, sub), bound, _cut()), "repair"
    # a large instance under a time limit: a single flow round on the whole part, as the core
    # search makes better use of the time.  A small instance: every round and both starts
    large = ctx.n_arcs > ctx.limits.parallel_arcs
    quick = late or not fits(t_end, estimate(FLOW_SECONDS_PER_ARC + GREEDY_SECONDS_PER_ARC, len(sub)))
    if quick and caps is None and ctx.greedy is not None:  # no time for a flow: the whole's greedy
        warm = RawResult(_within(part, ctx.greedy), Status.FEASIBLE)  # solution, on this part, is the start
    else:
        warm = best_start(problem, sub, st, x,
                          time.monotonic() if late or (large and seconds is not None) else t_end, late, t_end)
    if warm.status == Status.INFEASIBLE or (whole and warm.status != Status.FEASIBLE):
        return warm, "repair"
    feasible = warm.status == Status.FEASIBLE
    if feasible and (late or INTERRUPTED.is_set() or with_bound(sub, warm, bound).status == Status.OPTIMAL):
        return with_bound(sub, warm, bound, _cut() if late or INTERRUPTED.is_set() else None), "lp+repair"
    how = "lp+repair"
    if not whole and len(sub) <= ctx.limits.mip_arcs:
        return _search_mip(ctx, problem, sub, warm, feasible, t_end, caps, bound)
    if large and feasible and x is not None:
        warm, improved, done = _search_core(ctx, problem, sub, warm, x, t_end)
        how = "lp+core" if improved else how
        if done:  # the part's time is up (LNS alone rarely proves)
            return with_bound(sub, warm, bound, _cut()), how
    return _search_whole(ctx, problem, sub, warm, feasible, t_end, whole, caps, bound, how)


def _within(part: Part, arcs: np.ndarray) -> np.ndarray:
    """The part-local positions of those of ``arcs`` (of the whole, ascending) that are in ``part``:
    a feasible solution of the whole, restricted to a part that shares no cap, is one of the part."""
    pos = np.minimum(np.searchsorted(part.arcs, arcs), max(part.arcs.size - 1, 0))
    return pos[part.arcs[pos] == arcs] if part.arcs.size else np.zeros(0, np.int64)


def _search_mip(ctx: Context, problem: Problem, sub: CandidateGraph, warm: RawResult, feasible: bool,
                t_end: float | None, caps: tuple | None, bound: int | None) -> tuple[RawResult, str]:
    """The part by the MIP route (:func:`~._auto_mip.mip_search`) from the repaired start; CP-SAT
    single-threaded on an instance whose parts run in parallel.  With a share of caps (``caps``)
    the MIP's proof and bound hold for that share only: the LP's bound stays."""
    large = ctx.n_arcs > ctx.limits.parallel_arcs
    options = replace(ctx.options, workers=1) if large else ctx.options
    res, how = mip_search(problem, sub, options, t_end, warm.selected if feasible else None,
                          None if caps is not None else bound)
    how = "lp+repair+" + how
    if res.status == Status.INFEASIBLE:
        if caps is not None:  # proven for the part's share of the caps only
            return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, res.message), how
        return res, how
    if res.status == Status.UNKNOWN:
        return with_bound(sub, warm, bound, res.termination), how
    if caps is not None:
        return with_bound(sub, RawResult(res.selected, Status.FEASIBLE, None, res.message, res.stats),
                          bound, res.termination), how
    return res, how


def _search_core(ctx: Context, problem: Problem, sub: CandidateGraph, warm: RawResult, x: np.ndarray,
                 t_end: float | None) -> tuple[RawResult, bool, bool]:
    """CP-SAT on the part's core, the arcs the LP uses and the start's (a model a few times
    smaller), single-threaded (the parts run in parallel), on the coarse objective
    (:func:`~._auto_search.coarse`), under a time limit by LNS alone for all the part's time
    (docs/solvers.md).  Returns (the better solution, whether the search improved ``warm``,
    whether the part's search is over)."""
    value = int(sub.score[warm.selected].sum())
    core = Part.of(np.union1d(np.flatnonzero(x > 1e-6), warm.selected), sub.employee, sub.mission,
                   sub.n_employees, sub.n_missions)
    left = None if t_end is None else t_end - time.monotonic()
    if not (len(core) < len(sub) and (left is None or left > ctx.limits.min_search) and not INTERRUPTED.is_set()):
        return warm, False, False
    sel, proven = search(problem, coarse(sub).subset(core.arcs), core.to_local(warm.selected), left,
                         replace(ctx.options, workers=1), ctx.limits.cpsat_max_arcs, lns_only=left is not None)
    improved = False
    if sel is not None:
        found = core.to_whole(sel)
        improved = int(sub.score[found].sum()) > value
        if improved:
            warm = RawResult(found, Status.FEASIBLE, None, warm.message, warm.stats)
    return warm, improved, not proven and left is not None


def _search_whole(ctx: Context, problem: Problem, sub: CandidateGraph, warm: RawResult, feasible: bool,
                  t_end: float | None, whole: bool, caps: tuple | None, bound: int | None,
                  how: str) -> tuple[RawResult, str]:
    """The whole part, exact scores, from the best solution so far: CP-SAT (it often proves a part
    of a small instance within seconds), or LNS windows for a part too large for one model."""
    options = ctx.options
    left = None if t_end is None else t_end - time.monotonic()
    out = (left is not None and left <= 1.0) or INTERRUPTED.is_set()
    if out or (feasible and with_bound(sub, warm, bound).status == Status.OPTIMAL):
        return with_bound(sub, warm, bound, _cut() if out else None), how
    if whole:  # too large for one CP-SAT model: LNS windows
        sel = improve(problem, sub, warm.selected, float("inf") if left is None else time.monotonic() + left,
                      options.seed, rounds=1 if ctx.deadline is None else None)
        warm = RawResult(sel, Status.FEASIBLE, None, warm.message, warm.stats)
        return with_bound(sub, warm, bound, _cut() if left is not None else None), how + "+lns"
    hint = warm.selected if feasible else None  # else (forced pairs the repair could not place) CP-SAT alone
    res = solve_cpsat(problem, sub, SolveOptions(left, options.seed, options.workers, None, hint))
    if res.status == Status.INFEASIBLE:
        if caps is not None:  # proven for the part's share of the caps only: not a proof for the problem
            return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, res.message), how + "+cpsat"
        return res, "cpsat"
    if res.status == Status.UNKNOWN:
        return with_bound(sub, warm, bound, res.termination), how
    if caps is not None:  # CP-SAT's bound and proof hold for the part's share of the caps only
        return with_bound(sub, RawResult(res.selected, Status.FEASIBLE, None, res.message, res.stats),
                          bound, res.termination), how + "+cpsat"
    cp_bound = integer_bound(res.bound)  # a double from CP-SAT: above 2**53 it may lie below the true bound
    if cp_bound is not None:
        bound = cp_bound if bound is None else min(cp_bound, bound)
    status = res.status
    if status == Status.FEASIBLE and bound is not None and int(sub.score[res.selected].sum()) >= bound:
        status = Status.OPTIMAL
    return (RawResult(res.selected, status, bound, res.message, res.stats,
                      termination=Termination.OPTIMAL if status == Status.OPTIMAL else res.termination),
            how + "+cpsat")


def with_bound(sub: CandidateGraph, res: RawResult, bound: float | None,
               termination: Termination | None = None) -> RawResult:
    """A feasible ``res`` with the part's ``bound``: optimal when its value reaches the bound;
    otherwise it ended as ``termination`` says (default: as ``res`` did)."""
    if res.status != Status.FEASIBLE:
        return res
    value = int(sub.score[res.selected].sum())
    if bound is not None and value >= bound:
        return RawResult(res.selected, Status.OPTIMAL, bound, res.message, res.stats, termination=Termination.OPTIMAL)
    ended = termination or res.termination
    if ended == Termination.OPTIMAL:  # proven for the part's share of the caps only: no proof of the whole
        ended = Termination.COMPLETED
    return RawResult(res.selected, Status.FEASIBLE, bound, res.message, res.stats, termination=ended)


def _cut() -> Termination:
    """Why a part's search stopped before its end: Ctrl-C, or its share of the time ran out."""
    return Termination.INTERRUPTED if INTERRUPTED.is_set() else Termination.TIME_LIMIT
