"""``auto``'s MIP route: branch-and-bound on the tight LP relaxation, then CP-SAT on what it leaves.

The every-rule model's LP relaxation, with its team links, is nearly integral on
the instances measured, so HiGHS (:func:`~.mip.solve_mip`) proves a part of
up to tens of thousands of arcs optimal in a fraction of the time CP-SAT takes
(docs/solvers.md, "The MIP route").  Where it does not within its share of the
time, CP-SAT takes the rest from the MIP's solution:

- the first stage (the primary objective) unproven: CP-SAT on the whole score,
  hinted;
- the primary optimum proven, the tie-breaks (second stage) not: CP-SAT with
  the primary total held at its optimum (``min_primary``), hinted: on large
  parts its large-neighbourhood search improves the tie-breaks where HiGHS,
  measured, does not.

The bound is the tighter of the MIP's and CP-SAT's (and the caller's LP bound),
so a part is optimal as soon as either proves it.  HiGHS' proof rests on its
tolerances: one that the greedy solution (from the start) beats is dropped,
and CP-SAT continues from the better solution (docs/solvers.md, "The MIP route").
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status, Termination
from ._auto_clock import INTERRUPTED
from ._base import RawResult, SolveOptions
from .cpsat import solve_cpsat
from .greedy import greedy_from
from .mip import solve_mip

__all__ = ["mip_search", "FIRST_SHARE", "TIE_SHARE", "TIE_MIP_ARCS", "MIP_SETUP_SECONDS", "MIP_SETUP_SECONDS_PER_ARC"]

log = logging.getLogger(__name__)

#: Under a time limit the MIP's first stage may take this share of the part's time, its tie-break
#: stage this share of what is left then; CP-SAT gets the rest when they do not prove.
FIRST_SHARE = 0.5
TIE_SHARE = 0.5
#: HiGHS searches the tie-breaks only on parts of at most this many arcs; CP-SAT does on larger ones.
#: Bretagne 2,000 (9,210 arcs): HiGHS proved them in 1.6 s, CP-SAT not in 20 s; Bretagne 5,000
#: (56,932 arcs): HiGHS found nothing better than the first stage's solution in 32 s and overran
#: its limit, CP-SAT improved them in 30 s (docs/solvers.md, "The MIP route").
TIE_MIP_ARCS = 25_000
#: CP-SAT runs after the MIP only with at least this many seconds left.
MIN_CPSAT = 0.2
#: HiGHS starts only with at least MIP_SETUP_SECONDS + MIP_SETUP_SECONDS_PER_ARC x arcs left: its
#: model's export (0.07 s at 71,027 arcs) and its process's start (10 to 50 ms), rounded up;
#: with less, the greedy solution computed first is the answer (a 0.5 s limit on a 30,000-employee
#: city: its graph's drawing takes 0.36 s of it).
MIP_SETUP_SECONDS = 0.05
MIP_SETUP_SECONDS_PER_ARC = 2.0e-6


def mip_search(problem: Problem, sub: CandidateGraph, options: SolveOptions, t_end: float | None,
               hint: np.ndarray | None = None, bound: int | None = None,
               greedy: RawResult | None = None) -> tuple[RawResult, str]:
    """(The best solution of ``sub`` found by ``t_end`` (``time.monotonic()``; ``None``: until
    proven), how: ``mip``, ``mip+cpsat`` or ``greedy``).  ``hint``: arcs of a feasible solution;
    ``bound``: a bound already known (the LP's).  CP-SAT runs with ``options.workers``.
    ``greedy``: ``greedy_from(problem, sub, hint)`` when the caller computed it first (under a
    time limit; stopped by it or by Ctrl-C, what it took): the answer when too little time is
    left for HiGHS to start (:data:`MIP_SETUP_SECONDS`) or after Ctrl-C, and the solution
    HiGHS' is compared with, not computed again.

    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> res, how = mip_search(p, g, SolveOptions(), time.monotonic() + 10)
    >>> res.status.value, how
    ('optimal', 'mip')
    """
    left = None if t_end is None else max(t_end - time.monotonic(), 0.0)
    if (greedy is not None and greedy.status == Status.FEASIBLE
            and (INTERRUPTED.is_set() or left is not None
                 and left < MIP_SETUP_SECONDS + MIP_SETUP_SECONDS_PER_ARC * len(sub))):
        why = "interrupted (Ctrl-C)" if INTERRUPTED.is_set() else "time limit reached"
        return RawResult(greedy.selected, Status.FEASIBLE, bound,
                         f"{why} before HiGHS could start: best solution found so far, the greedy one",
                         dict(greedy.stats), termination=Termination.INTERRUPTED if INTERRUPTED.is_set()
                         else Termination.TIME_LIMIT), "greedy"
    res = solve_mip(problem, sub, SolveOptions(left, options.seed, hint=hint), stop=INTERRUPTED,
                    shares=(FIRST_SHARE, TIE_SHARE if len(sub) <= TIE_MIP_ARCS else 0.0))
    res = _tightened(sub, res, bound)
    if res.status == Status.OPTIMAL:
        res = _verified(problem, sub, res, hint, bound, greedy)
    rest = None if t_end is None else t_end - time.monotonic()
    if res.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return res, "mip"
    if INTERRUPTED.is_set() or (rest is not None and rest < MIN_CPSAT):
        return _or_greedy(problem, sub, res, hint, greedy), "mip"
    found = res.status == Status.FEASIBLE
    lex = sub.scale.lexicographic and sub.scale.multiplier > 1
    held = res.stats.get("mip_primary") if found and lex and res.stats.get("mip_primary_proven") else None
    if found:  # HiGHS' incumbent under a limit can be far below the greedy solution: CP-SAT starts from the better
        res = _or_greedy(problem, sub, res, hint, greedy)
    start = res.selected if found else hint
    cp = solve_cpsat(problem, sub, SolveOptions(rest, options.seed, options.workers, None, start), min_primary=held)
    if cp.status == Status.INFEASIBLE:
        return (res if found else cp), "mip+cpsat"
    if cp.status == Status.UNKNOWN:
        return _or_greedy(problem, sub, res, hint, greedy), "mip+cpsat"
    best = cp if not found or _value(sub, cp) > _value(sub, res) else res
    if cp.status == Status.OPTIMAL:  # CP-SAT's proof (its float bound may have lost units above 2**53)
        return RawResult(cp.selected, Status.OPTIMAL, _value(sub, cp), "", {**res.stats, **cp.stats},
                         termination=Termination.OPTIMAL), "mip+cpsat"
    bounds = [b for b in (res.bound, integer_bound(cp.bound), bound) if b is not None]
    b = min(bounds) if bounds else None
    value = _value(sub, best)
    if b is not None and value >= b:
        return RawResult(best.selected, Status.OPTIMAL, b, "", {**res.stats, **cp.stats},
                         termination=Termination.OPTIMAL), "mip+cpsat"
    return RawResult(best.selected, Status.FEASIBLE, b, cp.message, {**res.stats, **cp.stats},
                     termination=cp.termination), "mip+cpsat"


def _or_greedy(problem: Problem, sub: CandidateGraph, res: RawResult, hint: np.ndarray | None,
               greedy: RawResult | None = None) -> RawResult:
    """``res``, or the greedy solution from ``hint`` when ``res`` holds none (HiGHS stopped by Ctrl-C
    or its time: MathOpt's HiGHS cannot be interrupted, so its incumbent is out of reach) or a
    feasible one that scores less (this route runs on at most 100,000 arcs: the greedy solution
    costs a few hundredths of a second; ``greedy``: that solution, computed already)."""
    if res.status not in (Status.UNKNOWN, Status.FEASIBLE):
        return res
    start = _greedy(problem, sub, hint, greedy)
    if start.status != Status.FEASIBLE or (res.status == Status.FEASIBLE and _value(sub, start) <= _value(sub, res)):
        return res
    return RawResult(start.selected, Status.FEASIBLE, res.bound, "best solution found so far: greedy",
                     res.stats, termination=res.termination)


def _greedy(problem: Problem, sub: CandidateGraph, hint: np.ndarray | None, greedy: RawResult | None) -> RawResult:
    """``greedy`` (computed first by the caller), or ``greedy_from(problem, sub, hint)`` when there is
    none or it holds no solution (stopped with a forced team short)."""
    return greedy if greedy is not None and greedy.status == Status.FEASIBLE else greedy_from(problem, sub, hint)


def _verified(problem: Problem, sub: CandidateGraph, res: RawResult, hint: np.ndarray | None,
              bound: int | None, greedy: RawResult | None = None) -> RawResult:
    """``res`` (proven optimal by HiGHS), or, if the greedy solution from ``hint`` scores more, that
    solution, ``feasible``, with the caller's ``bound``: HiGHS' proof rests on its tolerances, and
    this check costs a few milliseconds (6 ms on the demo's 3,394 arcs); ``greedy``: that
    solution, computed already."""
    start = _greedy(problem, sub, hint, greedy)
    if start.status != Status.FEASIBLE or _value(sub, start) <= _value(sub, res):
        return res
    log.warning("auto: HiGHS proved %d optimal, but the greedy solution scores %d: CP-SAT continues",
                _value(sub, res), _value(sub, start))
    return RawResult(start.selected, Status.FEASIBLE, bound, "HiGHS' proof did not hold; best solution found so far",
                     {**res.stats, "mip_primary_proven": False}, termination=Termination.COMPLETED)


def integer_bound(bound: float | None) -> int | None:
    """An integer upper bound from CP-SAT's (a double: its integer bound rounded to the nearest
    double, exact below 2**53, up to one part in 2**53 below it above).

    >>> integer_bound(1519.0), integer_bound(2.0**60) - 2**60
    (1519, 128)
    """
    if bound is None or not math.isfinite(bound):
        return None
    return math.floor(bound) + (math.ceil(abs(bound) * 2.0**-53) if abs(bound) >= 2.0**53 else 0)


def _value(sub: CandidateGraph, res: RawResult) -> int:
    return int(sub.score[res.selected].sum())


def _tightened(sub: CandidateGraph, res: RawResult, bound: int | None) -> RawResult:
    """``res`` with the tighter of its bound and ``bound``; optimal if its value reaches it."""
    if bound is None or res.status != Status.FEASIBLE or (res.bound is not None and res.bound <= bound):
        return res
    if _value(sub, res) >= bound:
        return RawResult(res.selected, Status.OPTIMAL, bound, "", res.stats, termination=Termination.OPTIMAL)
    return RawResult(res.selected, res.status, bound, res.message, res.stats, termination=res.termination)
