"""``auto``'s feasible starts: flows that keep hours entitlements, repaired by the greedy.

The flow relaxation lets an employee take as many missions as its *shortest*
candidates fit and ignores team minimums, and its repair loses what breaks
those rules.  :func:`warm_start` instead gives each employee only as many
missions as fit its hours whichever they are, and closes, round after round,
the teams it leaves below their minimum; :func:`best_start` repairs it
(:func:`~koeeo_match.solvers.greedy.greedy_from`) on the whole part and on the
LP's support, and keeps the better.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status
from ._auto_clock import FLOW_SECONDS_PER_ARC, GREEDY_SECONDS_PER_ARC, estimate, fits
from ._base import RawResult, SolveOptions
from ._structure import Structure, structure
from .flow import flow_relaxation, safe_capacity
from .greedy import greedy_from

__all__ = ["best_start", "warm_start"]


def best_start(problem: Problem, sub: CandidateGraph, st: Structure, x: np.ndarray | None,
               until: float | None, late: bool = False, end: float | None = None) -> RawResult:
    """The better of two feasible starts, each repaired by :func:`greedy_from`:
    :func:`warm_start` (flow rounds until ``until``) on the whole part and on the LP's support
    only.  The arcs the LP takes (``x >= 1/2``), repaired, are the start only when ``late`` (a
    single repair) or when the others fail: as a third candidate it rarely wins, for a third
    more repair time (docs/solvers.md).  A flow cannot be stopped: when one flow and its repair
    would not end by ``end`` (``time.monotonic()``; their estimates,
    :data:`~._auto_clock.FLOW_SECONDS_PER_ARC`), the start is the greedy repair alone."""
    support = np.zeros(0, np.int64) if x is None else np.flatnonzero(x > 1e-6)  # empty without an LP
    first = np.flatnonzero(x >= 0.5) if x is not None and support.size else None
    if late or not fits(end, estimate(FLOW_SECONDS_PER_ARC + GREEDY_SECONDS_PER_ARC, len(sub))):
        return greedy_from(problem, sub, first)
    starts = [greedy_from(problem, sub, warm_start(problem, sub, st, until))]
    if 0 < support.size < len(sub) and (until is None or time.monotonic() < until) \
            and fits(end, estimate(FLOW_SECONDS_PER_ARC + GREEDY_SECONDS_PER_ARC, support.size)):
        g = sub.subset(support)
        starts.append(greedy_from(problem, sub, support[warm_start(problem, g, structure(problem, g), until)]))
    if x is not None and support.size and not any(r.status == Status.FEASIBLE for r in starts):
        starts.append(greedy_from(problem, sub, np.flatnonzero(x >= 0.5)))
    ok = [r for r in starts if r.status == Status.FEASIBLE]
    if not ok:
        return starts[-1]
    return max(ok, key=lambda r: int(sub.score[r.selected].sum()))


def warm_start(problem: Problem, sub: CandidateGraph, st: Structure, deadline: float | None = None,
               rounds: int = 4) -> np.ndarray:
    """Arcs for the repair to try first: a flow where each employee takes only as many
    missions as fit its hours whichever they are
    (:func:`~koeeo_match.solvers.flow.safe_capacity`), re-solved with the teams it leaves below
    their minimum closed (a few rounds).  The flows count the primary objective alone (small
    costs make them fast).  Past ``deadline`` (``time.monotonic()``) no further round starts.
    Teams still short after the last round are left out."""
    mins = problem.missions.min_seats
    sc = sub.scale
    if sc.lexicographic and sc.multiplier > 1:
        sub = replace(sub, score=sc.primary(sub.score))
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
    return selected[~short[sub.mission[selected]]]
