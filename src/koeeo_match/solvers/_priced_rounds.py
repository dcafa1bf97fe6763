"""What a priced solve (:mod:`.priced`) does in a round besides its flow, and what it answers when
it stops before its certificate: the scan of a round (with its partial pricing), the bound of the
whole problem from a round's prices, and the greedy answer when no flow ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..candidates import (
    CandidateGraph,
    FreeStats,
    ScoreBounds,
    free_pairs,
    in_sorted,
    pair_keys,
    priced_pairs,
)
from ..model import Problem
from ..policy import IntegerScores, Policy
from . import _auto_clock
from ._auto_clock import INTERRUPTED
from .greedy import greedy_from

__all__ = ["trivial_bound", "price_bound", "greedy_keys", "free_arcs", "scan_round", "Scanned", "HeldArcs",
           "GREEDY_FLOOR_ARCS"]

#: A greedy answer past the deadline (or on Ctrl-C) runs on this many of the best arcs held: its set-up
#: (0.8 s at 1.5 M arcs) cannot be stopped; the first slice of its scan (``_ledger.take_slices``).
GREEDY_FLOOR_ARCS = 262_144



class HeldArcs(Protocol):
    """The arcs a priced solve holds (:class:`.priced._Graph`)."""

    ea: np.ndarray
    ma: np.ndarray
    keys: np.ndarray


def trivial_bound(problem: Problem, b: ScoreBounds, k: np.ndarray) -> int:
    """A bound on the best total integer score (``scale``) of ``problem``, valid for the whole
    problem and computed without any arc: the smaller of each employee's best possible score
    times the missions it can take (``k``) and each mission's times its seats, from its
    :func:`~koeeo_match.candidates.score_bounds` ``b``.  Loose; the bound of a priced solve
    stopped before any of its rounds ended.

    >>> import koeeo_match as km
    >>> from koeeo_match.candidates import problem_scale, score_bounds
    >>> from koeeo_match.solvers.priced import capacity
    >>> p = km.synth.city(employees=60, seed=0, rules="flow")
    >>> pol = km.Policy.preset("max_hours")
    >>> sc = problem_scale(p, pol, max_arcs=10**6)
    >>> bool(sc.primary_bound(trivial_bound(p, score_bounds(p, pol, sc), capacity(p))) >= km.solve(p).objective)
    True
    """
    seats = np.maximum(problem.missions.seats.astype(np.int64), 0)
    if not problem.n_employees or not problem.n_missions or not seats.any() or not (k > 0).any():
        return 0
    best_e = np.maximum(b.employee + b.mission[seats > 0].max(), 0.0)
    best_m = np.maximum(b.mission + b.employee[k > 0].max(), 0.0)
    # float sums of non-negative terms, rounded up with a relative margin: an upper bound
    by_e = float(np.dot(best_e, np.maximum(k, 0).astype(np.float64)))
    by_m = float(np.dot(best_m, seats.astype(np.float64)))
    return int(np.ceil(min(by_e, by_m) * (1 + 1e-12) + 1))


def price_bound(value: int, k: np.ndarray, seats: np.ndarray, ea: np.ndarray, ma: np.ndarray,
                gain: np.ndarray) -> int:
    """A bound on the best total integer score of the whole problem after a complete scan:
    ``value`` (the flow's, optimal on the arcs it solved) plus, for each employee, its largest
    positive ``gain`` (score less the prices) over the arcs not solved, times the missions it
    can take; or the same over missions, times their seats, whichever is smaller.

    Raising an employee's price by that gain makes every arc of it price in, at the cost of
    the gain on each unit of its capacity: the prices then form a dual solution of the whole
    problem's flow (docs/solvers.md, "A bound before the certificate").  ``ea``, ``ma``,
    ``gain``: the arcs not solved whose gain is positive (every other eligible arc prices in).

    >>> price_bound(10, np.array([1, 2]), np.array([1, 1]), np.array([1]), np.array([0]), np.array([3]))
    13
    """
    if not gain.size:
        return int(value)
    g = np.maximum(gain.astype(np.int64), 0)
    de = np.zeros(k.size, np.int64)
    np.maximum.at(de, ea, g)
    dm = np.zeros(seats.size, np.int64)
    np.maximum.at(dm, ma, g)
    return int(value) + min(_dot(de, k), _dot(dm, seats))


def _dot(a: np.ndarray, b: np.ndarray) -> int:
    """Exact ``sum(a * max(b, 0))`` of int64 arrays, in Python integers (no overflow)."""
    nz = np.flatnonzero(a)
    return int(np.dot(a[nz].astype(object), np.maximum(b[nz], 0).astype(object))) if nz.size else 0


def free_arcs(problem: Problem, policy: Policy, scale: IntegerScores, held: HeldArcs, selected: np.ndarray,
               k: np.ndarray, seats: np.ndarray, y: np.ndarray, v: np.ndarray, partial_k: int,
               workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, FreeStats]:
    """The arcs of a partial round: pairs of free nodes (an employee with capacity left, a mission
    with a seat left, both at price 0 or less) among each one's ``partial_k`` best near it that
    beat the prices (:func:`~koeeo_match.candidates.free_pairs`) and are not held.

    They are a part of what a scan would find at these prices, found without enumerating every
    free pair; they certify nothing.
    """
    E, M = problem.n_employees, problem.n_missions
    used = np.bincount(held.ea[selected], minlength=E)
    filled = np.bincount(held.ma[selected], minlength=M)
    emps = np.flatnonzero((used < k) & (y <= 0))
    mis = np.flatnonzero((filled < seats) & (v <= 0))
    ea, ma, km, sc, st = free_pairs(problem, policy, scale, y, v, emps, mis, partial_k, workers=workers)
    new = ~in_sorted(pair_keys(ea, ma, M), held.keys)
    return ea[new], ma[new], km[new], sc[new], st


@dataclass
class Scanned:
    """What a round's scan found (arcs not held, distinct) and did."""

    ea: np.ndarray
    ma: np.ndarray
    km: np.ndarray
    score: np.ndarray
    cut: np.ndarray  # the remote missions a cap cut short: still to be scanned
    pairs_tested: int
    arcs_scanned: int
    arcs_priced: int
    seconds: float
    complete: bool


def scan_round(problem: Problem, policy: Policy, scale: IntegerScores, bounds: ScoreBounds, y: np.ndarray,
          v: np.ndarray, scan_e: np.ndarray, scan_m: np.ndarray, held_keys: np.ndarray, enough: float,
          cap: int | None, deadline: float | None, workers: int) -> Scanned:
    """A round's scan (:func:`~koeeo_match.candidates.priced_pairs`) at the prices ``y``, ``v`` of
    the pairs touching ``scan_e`` or ``scan_m``, remote missions capped at ``cap``; when that finds
    fewer than ``enough`` arcs not held (``held_keys``), the missions it cut short are scanned
    again whole at the same prices (partial pricing that never costs a round for a few arcs)."""
    M = problem.n_missions
    found: list[tuple[np.ndarray, ...]] = []
    tested = scanned = priced_out = 0
    seconds = 0.0
    while True:
        ea, ma, km, sc, st = priced_pairs(problem, policy, scale, bounds, y, v, scan_e, scan_m, deadline=deadline,
                                          workers=workers, stop=INTERRUPTED.is_set, cap=cap)
        new = ~in_sorted(pair_keys(ea, ma, M), held_keys)
        found.append((ea[new], ma[new], km[new], sc[new]))
        tested, scanned, priced_out = tested + st.pairs_tested, scanned + st.arcs_scanned, priced_out + st.arcs_priced
        seconds += st.seconds
        if not st.cut.size or not st.complete or int(new.sum()) >= enough:
            break
        scan_e, scan_m, cap = np.zeros_like(scan_e), np.zeros_like(scan_m), None
        scan_m[st.cut] = True
    ea, ma, km, sc = (np.concatenate(x) for x in zip(*found))
    if len(found) > 1:  # the second scan finds again the pairs of the first it covers
        _, first = np.unique(pair_keys(ea, ma, M), return_index=True)
        ea, ma, km, sc = ea[first], ma[first], km[first], sc[first]
    return Scanned(ea, ma, km, sc, st.cut, tested, scanned, priced_out, seconds, st.complete)


def greedy_keys(problem: Problem, graph: CandidateGraph, keys: np.ndarray, stop: Callable[[], bool],
                 deadline: float | None) -> np.ndarray:
    """The pair keys (``keys``: those of ``graph``'s arcs) of the greedy solution on ``graph``,
    its scan stopped between slices when ``stop`` answers True (every rule kept).

    Greedy's set-up (the arcs' structure, their order) cannot be stopped: it runs on the best
    arcs that fit in the time left (``GREEDY_SECONDS_PER_ARC``), at least ``GREEDY_FLOOR_ARCS``
    (past the deadline, or on Ctrl-C: that many, the first slice's worth)."""
    fit = _auto_clock.left(deadline)
    if stop():
        n = GREEDY_FLOOR_ARCS
    elif fit is None:
        n = len(graph)
    else:
        n = max(GREEDY_FLOOR_ARCS, int(fit / _auto_clock.GREEDY_SECONDS_PER_ARC))
    if n < len(graph):  # the n best-scored arcs: those greedy would try first
        best = np.sort(np.argpartition(-graph.score, n - 1)[:n])
        raw = greedy_from(problem, graph.subset(best), stop=stop)
        return keys[best[np.sort(np.asarray(raw.selected, np.int64))]]
    raw = greedy_from(problem, graph, stop=stop)
    return keys[np.sort(np.asarray(raw.selected, np.int64))]
