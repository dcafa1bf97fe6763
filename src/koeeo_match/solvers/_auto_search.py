"""``auto``'s search steps: improving a feasible solution of a part.

CP-SAT from the solution as a hint (on a part's core, on the coarse objective
of :func:`coarse` first), or, for a part too large for one CP-SAT model, our own
large-neighbourhood search over geographic windows (:func:`improve`).  Every
step keeps the incumbent unless it finds better, so the answer stays feasible
whenever the step stops (time limit, Ctrl-C: :data:`~._auto_clock.INTERRUPTED`).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..candidates import CandidateGraph
from ..model import Pairs, Problem
from ..status import Status
from ._auto_clock import INTERRUPTED
from ._auto_split import coupled
from ._base import SolveOptions
from .cpsat import solve_cpsat

__all__ = ["search", "coarse", "improve", "COARSE_LEVELS", "LNS_ARCS", "WINDOW_SECONDS"]

#: Secondary levels (each side of zero) of the coarse objective searched first (:func:`coarse`).
COARSE_LEVELS = 4
#: Larger parts are improved by large-neighbourhood search (:func:`improve`) over windows of about
#: this many free arcs, each given about WINDOW_SECONDS to CP-SAT.
LNS_ARCS = 5_000
WINDOW_SECONDS = 1.0


def search(problem: Problem, g: CandidateGraph, hint: np.ndarray, limit: float | None, options: SolveOptions,
           max_arcs: int, lns_only: bool = False) -> tuple[np.ndarray | None, bool]:
    """(A better solution of ``g`` from the feasible ``hint`` (arc indices into ``g``) within
    ``limit`` seconds, whether it is proven optimal for ``g``): CP-SAT, or LNS windows
    (:func:`improve`, never a proof) above ``max_arcs`` arcs."""
    if len(g) > max_arcs:
        until = float("inf") if limit is None else time.monotonic() + limit
        return improve(problem, g, hint, until, options.seed, rounds=1 if limit is None else None), False
    res = solve_cpsat(problem, g, SolveOptions(limit, options.seed, options.workers, None, hint), lns_only)
    return (res.selected if res.status in (Status.OPTIMAL, Status.FEASIBLE) else None), res.status == Status.OPTIMAL


def coarse(sub: CandidateGraph, levels: int = COARSE_LEVELS) -> CandidateGraph:
    """``sub`` with the scores CP-SAT searches first, for a lexicographic policy: the primary
    objective, then the secondary one rounded to ``levels`` steps each side of zero (still
    lexicographic: the multiplier exceeds any difference of secondary totals).  CP-SAT's
    large-neighbourhood search spends its time on the full-resolution tie-breaks otherwise
    (docs/solvers.md)."""
    sc = sub.scale
    if not (sc.lexicographic and sc.multiplier > 1) or len(sub) == 0:
        return sub
    mult = 2 * levels * len(sub) + 1
    if mult >= sc.multiplier:  # only if coarser than the scores themselves
        return sub
    prim = sc.primary(sub.score)
    sec = sub.score - prim * sc.multiplier
    top = int(np.abs(sec).max())
    step = np.rint(sec * (levels / top)).astype(np.int64) if top else np.zeros(len(sub), np.int64)
    return replace(sub, score=prim * mult + step)


def improve(problem: Problem, sub: CandidateGraph, selected: np.ndarray, until: float, seed: int = 0,
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
    e = problem.employees
    counts = np.diff(sub.ptr)
    emps = np.flatnonzero(counts)
    emps = emps[np.lexsort((e.lat[emps], np.round(e.lon[emps], 1)))]  # bands west to east
    cum = np.cumsum(counts[emps])
    emp_of = e.employer[sub.employee]
    linked = coupled(problem, emp_of)
    fz = problem.forced
    fkeys = np.sort(fz.employee.astype(np.int64) * sub.n_missions + fz.mission)
    keys = sub.employee.astype(np.int64) * sub.n_missions + sub.mission
    orig_forced = np.isin(keys, fkeys) if fkeys.size else np.zeros(len(sub), bool)
    inc = np.zeros(len(sub), bool)
    inc[selected] = True
    n_windows = max(1, int(-(-int(cum[-1]) // window))) if emps.size else 0
    rnd = 0
    while (n_windows and time.monotonic() < until and not INTERRUPTED.is_set()
           and (rounds is None or rnd < rounds)):
        shift = (rnd % 3) * window // 3
        wid = (cum - 1 + shift) // window
        for w in range(int(wid.max()) + 1):
            left = until - time.monotonic()
            if left <= 0.2 or INTERRUPTED.is_set():
                break
            in_w = np.zeros(sub.n_employees, bool)
            in_w[emps[wid == w]] = True
            free = in_w[sub.employee]
            if free.any():
                _window(problem, sub, inc, free, (emp_of, linked, orig_forced), left, until, window, seed, workers)
        rnd += 1
    return np.flatnonzero(inc)


def _window(problem: Problem, sub: CandidateGraph, inc: np.ndarray, free: np.ndarray, arc_info: tuple,
            left: float, until: float, window: int, seed: int, workers: int) -> None:
    """One window of :func:`improve`: CP-SAT on the ``free`` arcs and the incumbent arcs ``inc`` they
    share a rule with (forced); ``inc`` (a mask over ``sub``) takes the answer if it scores more.
    ``arc_info``: per arc of ``sub``, its employee's employer, whether that employer couples its
    staff (:func:`~._auto_split.coupled`) and whether the pair is forced in ``problem``."""
    er = problem.employers
    emp_of, linked, orig_forced = arc_info
    touched_m = np.zeros(sub.n_missions, bool)
    touched_m[sub.mission[free]] = True
    touched_c = np.zeros(max(len(er), 1), bool)
    touched_c[emp_of[free & linked]] = True
    fixed = inc & ~free & (touched_m[sub.mission] | (linked & touched_c[np.maximum(emp_of, 0)]))
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
