"""First come, first served over the implicit full graph: fcfs where the whole graph does not fit.

:func:`~.fcfs.solve_fcfs` reads a built graph; given every eligible arc of the national instance
(4 billion) it cannot run.  :func:`solve_fcfs_streamed` gives the same sign-ups without that
graph.  Employees come in the same arrival order, in blocks of ``block``; for a block, each
employee needs only its best open arcs, in score order, and only until it is full:

1. the problem is reduced by the sign-ups so far (:func:`~koeeo_match.pinned.reduce`: seats,
   ``max_per_employer`` places and the rest they took), and restricted to the block's employees
   and the missions with a seat left;
2. each employee's ``top`` best arcs are drawn among its nearest missions
   (:func:`~koeeo_match.candidates.eligible_pairs`), which sets a threshold, the score of its
   ``top``-th; then the pricing scan (:func:`~koeeo_match.candidates.priced_pairs`, every
   mission priced at 0 and the employee at its threshold less one) draws *every* eligible arc
   at or above that threshold, however far.  Each list is then exact: all the employee's arcs
   of the highest scores, ties included (an employee with fewer than ``top`` arcs nearby gets
   all its arcs of positive score);
3. :func:`~.fcfs.solve_fcfs` runs the block on those lists, every rule kept by its ledger.

An employee that ends a block with room left and a list cut at its threshold might have signed
up for an arc below it, and those after it might then choose otherwise: every such employee gets
its whole list (every arc of positive score) and the block runs again, until no cut list runs out.
So the sign-ups are those of :func:`~.fcfs.solve_fcfs` on the full graph, arc for arc, when the
scores are on the same scale (``scale``; a test checks it).  A time limit or Ctrl-C stops the
drawing of a block's lists (the block is then dropped) or its sign-ups (those who came before the
first list that ran out keep theirs).

The route applies to problems whose only rules between employees are seats and
``max_per_employer`` (:func:`~.priced.priced_obstacles` empty: no team minimum, whose
cancellation at the end would reach back into earlier blocks, no forced pair, no employer cap or
budget that can bind).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from ._arrays import csr_ptr
from .candidates import (
    ArcTerms,
    CandidateGraph,
    arc_terms,
    eligible_pairs,
    pair_keys,
    priced_pairs,
    problem_scale,
    score_bounds,
)
from .errors import UnsupportedError
from .memory import full_graph_fits
from .model import Problem
from .pinned import pairs_solution, pairs_value, reduce
from .policy import IntegerScores, Policy
from .solution import Solution
from .solvers import INTERRUPTED, CtrlC, RawResult, SolveOptions
from .solvers.fcfs import solve_fcfs
from .solvers.priced import MAX_ARCS, capacity, priced_obstacles
from .status import Status, Termination

__all__ = ["solve_fcfs_streamed", "streamable", "streamed_route", "streamed_solution", "BLOCK", "TOP"]

log = logging.getLogger(__name__)

#: Employees per block, in arrival order.
BLOCK = 16_384
#: Each employee's arcs drawn among its nearest missions, whose worst sets its list's threshold.
TOP = 8


def _lists(problem: Problem, policy: Policy, scale: IntegerScores, top: int, workers: int,
           stop: Callable[[], bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Every employee's list (step 2): its eligible arcs whose score beats a threshold, as
    (employee, mission, km, score), whether each list was cut at a threshold above 0, and the arcs
    drawn.  ``stop`` answering True leaves the lists short (the caller asks it again and drops them)."""
    E = problem.n_employees
    weighted = [t for t, w in policy.weights().items() if w]
    ea, ma, km = eligible_pairs(problem, k=top, policy=policy, workers=workers, stop=stop)
    near = ea.size
    sc = scale.apply(policy, arc_terms(problem, ea, ma, km, weighted))
    order = np.lexsort((-sc, ea))
    ea_s, sc_s = ea[order], sc[order]
    ptr = csr_ptr(ea_s, E)
    full = np.diff(ptr) >= top
    y = np.zeros(E, np.int64)
    # the threshold: the score of the top-th best arc drawn; every arc at or above it is wanted
    y[full] = np.maximum(sc_s[ptr[:-1][full] + top - 1] - 1, 0)
    ea, ma, km, sc = _above(problem, policy, scale, y, np.ones(E, bool), workers, stop)
    return ea, ma, km, sc, y > 0, near + ea.size


def _above(problem: Problem, policy: Policy, scale: IntegerScores, y: np.ndarray, scan: np.ndarray,
           workers: int, stop: Callable[[], bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible arc of the employees ``scan`` whose score exceeds ``y[e]`` (>= 0): the pricing
    scan, every mission priced at 0."""
    bounds = score_bounds(problem, policy, scale)
    v = np.zeros(problem.n_missions, np.int64)
    ea, ma, km, sc, _ = priced_pairs(problem, policy, scale, bounds, y, v, scan,
                                     np.zeros(problem.n_missions, bool), workers=workers, stop=stop)
    keep = sc > 0
    return ea[keep], ma[keep], km[keep], sc[keep]


def _graph(problem: Problem, policy: Policy, scale: IntegerScores, ea: np.ndarray, ma: np.ndarray,
           km: np.ndarray, sc: np.ndarray) -> CandidateGraph:
    """The arcs as a candidate graph, sorted by employee then mission (fcfs breaks ties by arc index)."""
    o = np.argsort(pair_keys(ea, ma, problem.n_missions), kind="stable")
    ea, ma, km = ea[o], ma[o], km[o]
    return CandidateGraph(n_employees=problem.n_employees, n_missions=problem.n_missions, employee=ea, mission=ma,
                          ptr=csr_ptr(ea, problem.n_employees), km=km, terms=ArcTerms(problem, ea, ma, km),
                          score=sc[o], scale=scale, policy=policy)


def solve_fcfs_streamed(problem: Problem, policy: Policy, options: SolveOptions, scale: IntegerScores, *,
                        block: int = BLOCK, top: int = TOP) -> tuple[np.ndarray, np.ndarray, RawResult]:
    """First-come-first-served sign-ups on every eligible arc of ``problem``, without its graph.

    Parameters
    ----------
    problem : Problem
        A problem :func:`~.priced.priced_obstacles` accepts.
    policy : Policy
        Ranks each employee's missions (the best open one first).
    options : SolveOptions
        ``seed`` or ``arrival`` (the order employees come in, as :func:`~.fcfs.solve_fcfs`),
        ``time_limit`` and ``workers``.  The limit and Ctrl-C stop the drawing of a block's lists
        (the block is dropped) or its sign-ups (those who came before the first list that ran out
        keep theirs).
    scale : IntegerScores
        The integer scale arcs are ranked on (:func:`~koeeo_match.candidates.problem_scale`).
    block, top : int
        Employees per block; arcs drawn per employee before the threshold scan.

    Returns
    -------
    employee, mission : ndarray of int64
        The sign-ups, as indices into ``problem``, in the order they were made.
    result : RawResult
        ``status`` feasible (``stats["fcfs_streamed"]``: blocks, restarts, arcs drawn); its
        ``selected`` is empty (the sign-ups are the pairs above).

    Raises
    ------
    UnsupportedError
        A rule the route cannot keep across blocks (:func:`~.priced.priced_obstacles`).

    Examples
    --------
    >>> import koeeo_match as km
    >>> from koeeo_match.candidates import problem_scale
    >>> p = km.synth.city(employees=300, seed=2, rules="flow")
    >>> pol = km.Policy.preset("max_hours")
    >>> g = km.build_candidates(p, pol)
    >>> from koeeo_match.solvers import SolveOptions
    >>> e, m, res = solve_fcfs_streamed(p, pol, SolveOptions(seed=4), g.scale, block=50, top=2)
    >>> whole = km.solve(p, method="fcfs", seed=4)
    >>> sorted(zip(p.employees.ids[e], p.missions.ids[m])) == sorted(whole.assignments)
    True
    """
    obstacles = priced_obstacles(problem)
    if obstacles:
        raise UnsupportedError("First-come-first-served without its full graph cannot keep these rules across "
                               "blocks of arrivals: " + "; ".join(obstacles) + ". Use top_k (a capped graph).")
    E = problem.n_employees
    if problem.taken is not None:
        raise UnsupportedError("First-come-first-served without its full graph starts from no sign-up: "
                               "fixed= is not supported on this route. Use top_k (a capped graph).")
    arrival = (np.asarray(options.arrival, np.int64) if options.arrival is not None
               else np.random.default_rng(options.seed).permutation(E))
    if np.unique(arrival).size != arrival.size:
        raise ValueError("solve_fcfs_streamed: an employee arrives twice in options.arrival.")
    arrival = arrival[capacity(problem)[arrival] > 0]
    t0 = time.monotonic()
    deadline = None if options.time_limit is None else t0 + options.time_limit

    def halt() -> bool:  # Ctrl-C (this route's handler, or the one of the block's fcfs) or the deadline
        return INTERRUPTED.is_set() or interrupted or (deadline is not None and time.monotonic() > deadline)

    every_m = np.ones(problem.n_missions, bool)
    fe: list[np.ndarray] = []
    fm: list[np.ndarray] = []
    blocks = restarts = drawn = 0
    stopped = interrupted = False
    with CtrlC():
        for pos in range(0, arrival.size, block):
            if halt():
                stopped, interrupted = True, interrupted or INTERRUPTED.is_set()
                break
            come = arrival[pos: pos + block]
            within = np.zeros(E, bool)
            within[come] = True
            red = reduce(problem, np.concatenate(fe) if fe else np.zeros(0, np.int64),
                         np.concatenate(fm) if fm else np.zeros(0, np.int64), within=(within, every_m))
            sub = red.problem
            if not sub.n_missions:  # every seat taken: nobody after can sign up
                break
            local = np.full(E, -1, np.int64)
            local[red.employees] = np.arange(red.employees.size)
            order = local[come]  # every employee who came is there: none signed up before
            k = capacity(sub)
            ea, ma, km, sc, cut, n_drawn = _lists(sub, policy, scale, top, options.workers, halt)
            drawn += n_drawn
            blocks += 1
            while True:
                if halt():  # lists drawn in part, or about to be: the block is dropped
                    stopped, interrupted = True, interrupted or INTERRUPTED.is_set()
                    break
                graph = _graph(sub, policy, scale, ea, ma, km, sc)
                left = None if deadline is None else max(deadline - time.monotonic(), 1e-3)
                raw = solve_fcfs(sub, graph, SolveOptions(time_limit=left, arrival=order, workers=options.workers))
                interrupted = interrupted or raw.termination == Termination.INTERRUPTED  # its own handler's
                sel = np.asarray(raw.selected, np.int64)
                short = cut & (np.bincount(graph.employee[sel], minlength=sub.n_employees) < k)
                if raw.stats.get("stopped") or not short.any():
                    break
                # a list cut at its threshold ran out before its employee was full: that employee might have
                # signed up below it, and those after may then choose otherwise; its whole list, and again
                restarts += 1
                xe, xm, xkm, xsc = _above(sub, policy, scale, np.zeros(sub.n_employees, np.int64), short,
                                          options.workers, halt)
                drawn += xe.size
                other = ~short[ea]
                ea, ma, km, sc = (np.concatenate([x[other], z]) for x, z in ((ea, xe), (ma, xm), (km, xkm), (sc, xsc)))
                cut &= ~short
            if stopped:
                break
            if raw.stats.get("stopped"):  # those who came before the first short list keep their sign-ups
                stopped = True
                first = np.flatnonzero(short[order])
                came = order[: first[0]] if first.size else order
                sel = sel[np.isin(graph.employee[sel], came)]
            fe.append(red.employees[graph.employee[sel]])
            fm.append(red.missions[graph.mission[sel]])
            msg = (f"fcfs without its graph: {min(pos + block, arrival.size):,} of {arrival.size:,} employees came, "
                   f"{sum(x.size for x in fe):,} sign-ups ({blocks} blocks, {restarts} restarts, "
                   f"{drawn:,} arcs drawn, {time.monotonic() - t0:.0f} s)")
            log.info(msg)
            if options.progress:
                options.progress(msg)
            if stopped:
                break
    e = np.concatenate(fe) if fe else np.zeros(0, np.int64)
    m = np.concatenate(fm) if fm else np.zeros(0, np.int64)
    stats = {"fcfs_streamed": {"blocks": blocks, "restarts": restarts, "arcs_drawn": drawn, "block": block,
                               "top": top}}
    end = Termination.INTERRUPTED if interrupted else Termination.TIME_LIMIT if stopped else None
    msg = "fcfs stopped before every employee arrived (time limit or Ctrl-C): the sign-ups of those who came" \
        if stopped else ""
    return e, m, RawResult(np.zeros(0, np.int64), Status.FEASIBLE, None, msg, stats, termination=end)


def streamed_route(problem: Problem, method: str, top_k: int | None, memory_limit: float | None) -> bool:
    """Whether :func:`koeeo_match.solve` takes this route: ``fcfs`` without ``top_k`` on a problem
    :func:`~.solvers.priced.priced_obstacles` accepts, whose full graph would not fit in memory
    (:func:`~koeeo_match.memory.check_memory`; where it fits, fcfs reads it whole).

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0, rules="flow")
    >>> streamed_route(p, "fcfs", None, None), streamed_route(p, "fcfs", None, 1e-6)
    (False, True)
    """
    return streamable(problem, method, top_k) and not full_graph_fits(problem, method, memory_limit)


def streamable(problem: Problem, method: str, top_k: int | None) -> bool:
    """The rules half of :func:`streamed_route`: ``fcfs`` without ``top_k`` or pinned pairs, on a
    problem :func:`~.solvers.priced.priced_obstacles` accepts (:func:`koeeo_match.solve` asks it
    once its memory check has refused the full graph, so that the arcs are estimated once).

    >>> import koeeo_match as km
    >>> streamable(km.synth.city(employees=50, seed=0, rules="flow"), "fcfs", None)
    True
    """
    return top_k is None and method == "fcfs" and problem.taken is None and not priced_obstacles(problem)


def streamed_solution(problem: Problem, policy: Policy, options: SolveOptions) -> Solution:
    """:func:`solve_fcfs_streamed` as the whole problem's Solution (method ``fcfs:streamed``,
    status ``feasible``, no bound; ``metrics["fcfs_streamed"]``: blocks, restarts, arcs drawn)."""
    t0 = time.perf_counter()
    E, M = problem.n_employees, problem.n_missions
    scale = problem_scale(problem, policy, max_arcs=int(min(MAX_ARCS, max(E * M, 1))))
    e, m, raw = solve_fcfs_streamed(problem, policy, options, scale)
    return pairs_solution(problem, e, m, policy, status=Status.FEASIBLE, objective=pairs_value(problem, policy, e, m),
                          bound=None, method="fcfs:streamed", message=raw.message,
                          seconds=time.perf_counter() - t0, extra=raw.stats, termination=raw.termination)
