"""Capacities left while the sequential heuristics (greedy, fcfs) take arcs in a fixed order.

Every capacity rule of DESIGN.md §4 is a group of arcs with a limit (see
:mod:`._structure`): employee hours, (employee, date), mission seats,
(mission, employer), (employer, date) and employer hours budget.  The
heuristics take arcs *in a given order, each one if every rule still has room
for it*.  That is sequential by definition, yet its outcome can be computed by
rounds over numpy arrays instead of one Python step per arc:

when an arc's turn comes, what its group has used lies between what the arcs
*known to be taken* before it use (a lower bound) and what the arcs taken *or
still undecided* before it would use (an upper bound).  An arc that fits under
the upper bound in every group is taken; one that does not fit over the lower
bound in some group is refused; the others wait for the next round.  Each round
settles at least the first undecided arc (everything before it is settled, so
its two bounds meet).  Arcs that wait on each other in long chains make late
rounds poor value, so once rounds settle too few arcs for their cost the rest
is scanned one by one (:func:`_scan`: scalars over flat arrays, a window of
turns at a time).  The result is exactly that of the one-by-one scan
(tests/test_ledger.py pits greedy and fcfs against one written from the rules).
Team minimums are settled afterwards by the callers (:meth:`Ledger.short_teams`,
:meth:`Ledger.release_missions`).

Only the groups that can fill up during a scan are followed (a queue per rule:
its arcs sorted by group, then turn); each pass over a queue goes in slices of
whole groups, so the temporaries stay a fixed size whatever the instance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .._arrays import csr_ptr, dense
from ..candidates import CandidateGraph
from ..model import Problem
from ._structure import Structure

__all__ = ["Ledger", "csr_rows", "stable_order", "take_slices"]

_OPEN, _TAKEN, _REFUSED = 0, 1, 2
_CHUNK = 1 << 20  # queue entries (or turns of the one-by-one scan) handled at once
_PAYS = 20  # queue entries a round may cost per arc it settles before the one-by-one scan is cheaper
#: :meth:`Ledger.take` tries its arcs in slices of at least _TAKE_MIN arcs and at most _TAKE_PARTS of
#: them: greedy at 2,072,704 arcs (Bretagne 30,000) took 1.82 s in one pass, 0.56 s in slices of
#: 262,144 (the same arcs taken); a caller may stop between slices (a deadline).
_TAKE_MIN = 1 << 18
_TAKE_PARTS = 16


@dataclass(eq=False)
class _Rule:
    """One capacity rule: the group of each arc (-1: none), what an arc uses, the limit per group."""

    group: np.ndarray
    amount: np.ndarray | None  # per arc; None: every arc uses 1
    cap: np.ndarray  # int64 per group
    used: np.ndarray  # int64 per group

    def amounts(self, arcs: np.ndarray) -> np.ndarray:
        if self.amount is None:
            return np.ones(arcs.size, np.int64)
        return self.amount[arcs].astype(np.int64, copy=False)

    def add(self, arcs: np.ndarray, sign: int) -> None:
        g = self.group[arcs]
        has = g >= 0
        w = None if self.amount is None else self.amount[arcs[has]].astype(np.float64)
        total = np.bincount(g[has], weights=w, minlength=self.cap.size)
        self.used += sign * np.rint(total).astype(np.int64)  # integer sums, exact below 2**53


@dataclass(eq=False)
class _Queue:
    """The arcs of one rule that can meet a full group, sorted by (group, turn).

    ``turn`` is the arc's position in the order being taken; ``group`` is dense
    among the queue's groups, ``room`` what each group has left before the scan.
    """

    turn: np.ndarray
    group: np.ndarray
    amount: np.ndarray | None  # None: every arc uses 1
    room: np.ndarray

    def chunks(self) -> list[slice]:
        """Slices of whole groups of about ``_CHUNK`` entries: the temporaries of a pass stay small."""
        n = self.turn.size
        if n <= _CHUNK:
            return [slice(0, n)]
        ptr = csr_ptr(self.group, self.room.size)
        cuts = ptr[np.searchsorted(ptr, np.arange(_CHUNK, n, _CHUNK))]
        edges = np.unique(np.concatenate([[0], cuts, [n]])).tolist()
        return [slice(lo, hi) for lo, hi in pairwise(edges)]

    def amounts(self, sl: slice) -> np.ndarray:
        size = sl.stop - sl.start
        return np.ones(size, np.int64) if self.amount is None else self.amount[sl].astype(np.int64)

    def keep(self, mask: np.ndarray) -> None:
        self.turn, self.group = self.turn[mask], self.group[mask]
        if self.amount is not None:
            self.amount = self.amount[mask]

    def before(self, x: np.ndarray, sl: slice) -> np.ndarray:
        """For each entry of the slice ``sl`` (whole groups), the sum of ``x`` over the entries
        before it in its group."""
        local = self.group[sl] - self.group[sl.start]
        cum = np.cumsum(x, dtype=np.int64)
        cum -= x
        cum -= cum[csr_ptr(local, int(local[-1]) + 1)[:-1]][local]  # groups are contiguous: in range
        return cum


def _index(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` as int32 when its values (below ``n``) fit: the queues hold millions of them."""
    return a.astype(np.int32) if n < 2**31 else a.astype(np.int64)


def _queue(rule: _Rule, arcs: np.ndarray) -> _Queue | None:
    """The queue of ``rule`` over ``arcs`` (in turn order); None when no group of it can fill up."""
    g = rule.group[arcs]
    turn = _index(np.flatnonzero(g >= 0), arcs.size)
    g = g[turn]
    amount = None if rule.amount is None else rule.amount[arcs[turn]]
    demand = np.bincount(g, weights=None if amount is None else amount.astype(np.float64),
                         minlength=rule.cap.size)
    tight = (rule.used + np.rint(demand).astype(np.int64) > rule.cap)[g]
    del demand
    turn, g = turn[tight], g[tight]
    if amount is not None:
        amount = _index(amount[tight], int(amount.max(initial=0)) + 1)
    del tight
    if not turn.size:
        return None
    by_group = stable_order(g)
    turn, g = turn[by_group], g[by_group]
    groups, dense_g = dense(g, rule.cap.size)
    del g
    return _Queue(turn, _index(dense_g, groups.size), None if amount is None else amount[by_group],
                  rule.cap[groups] - rule.used[groups])


def stable_order(g: np.ndarray) -> np.ndarray:
    """The stable permutation sorting ``g`` (non-negative integers).

    One sort of a combined int64 key (group, position), whose values are
    distinct: a few times faster than numpy's stable argsort on large inputs.
    """
    m = g.size
    if m and (int(g.max()) + 1) * m < 2**62:
        key = g.astype(np.int64) * m + np.arange(m)
        key.sort()
        key %= m
        return key
    return np.argsort(g, kind="stable")


class Ledger:
    """What every capacity rule has left while arcs are taken (greedy, fcfs).

    Parameters
    ----------
    problem, graph
        The instance and its candidate graph.
    st
        ``structure(problem, graph)``: the groups of each arc.
    """

    def __init__(self, problem: Problem, graph: CandidateGraph, st: Structure):
        def rule(group: np.ndarray, amount: np.ndarray | None, cap: np.ndarray) -> _Rule:
            return _Rule(group, amount, cap.astype(np.int64), np.zeros(cap.size, np.int64))

        self.taken = np.zeros(len(graph), bool)
        self.stopped = False  # the last take was stopped before it tried every arc
        self.mission = graph.mission
        self.min_seats = problem.missions.min_seats
        self.seats = rule(graph.mission, None, problem.missions.seats)
        self.rules = [
            rule(graph.employee, st.arc_hours, st.emp_hours),
            rule(st.ed, None, np.ones(st.n_ed, np.int64)),
            self.seats,
            rule(st.mc, None, st.mc_cap),
            rule(st.cd, None, st.cd_cap),
            rule(st.budget_emp, st.arc_hours, np.maximum(st.budget, 0)),
        ]

    def take(self, arcs: np.ndarray, stop: Callable[[], bool] | None = None) -> np.ndarray:
        """Try ``arcs`` (distinct) in the given order, each taken if every rule still has room.

        Arcs already taken are skipped.  Returns the arcs taken, in that order.  The arcs are
        tried a slice at a time (:func:`take_slices`: the same outcome, since each slice starts
        from what the slices before it took, and faster than one pass over millions: the late
        arcs then meet groups already settled); ``stop`` is asked after each slice, and when it
        answers True the remaining arcs are not tried (:attr:`stopped` says so).
        """
        arcs = np.asarray(arcs)
        self.stopped = False
        won = []
        for sl in take_slices(arcs.size):
            won.append(self._take(arcs[sl]))
            if stop is not None and sl.stop < arcs.size and stop():
                self.stopped = True
                break
        return won[0] if len(won) == 1 else np.concatenate(won)

    def _take(self, arcs: np.ndarray) -> np.ndarray:
        """:meth:`take` of one slice."""
        done = self.taken[arcs]
        if done.any():
            arcs = arcs[~done]
        del done
        state = np.full(arcs.size, _OPEN, np.int8)
        queues = [q for q in (_queue(r, arcs) for r in self.rules) if q is not None]
        queues = _rounds(queues, state)
        if queues:
            _one_by_one(queues, state)
        won = arcs[state == _TAKEN]
        self.taken[won] = True
        for r in self.rules:
            r.add(won, 1)
        return won

    def release(self, arcs: np.ndarray) -> None:
        """Give back the capacity of ``arcs`` (taken arcs)."""
        arcs = np.asarray(arcs, np.int64)
        self.taken[arcs] = False
        for r in self.rules:
            r.add(arcs, -1)

    def short_teams(self) -> np.ndarray:
        """Missions that started but did not reach their team minimum (ascending)."""
        c = self.seats.used
        return np.flatnonzero((c > 0) & (c < self.min_seats))

    def release_missions(self, missions: np.ndarray) -> np.ndarray:
        """Release every taken arc of ``missions``; returns those arcs."""
        sel = self.selected()
        mark = np.zeros(self.seats.cap.size, bool)
        mark[missions] = True
        gone = sel[mark[self.mission[sel]]]
        self.release(gone)
        return gone

    def selected(self) -> np.ndarray:
        """The taken arcs, ascending."""
        return np.flatnonzero(self.taken)


def take_slices(n: int) -> list[slice]:
    """The slices in which :meth:`Ledger.take` tries ``n`` arcs: ``_TAKE_MIN`` arcs each, or a
    ``_TAKE_PARTS``-th of them when that is more (the fixed cost of a slice grows with the
    groups, not the arcs).

    >>> [(s.start, s.stop) for s in take_slices(600_000)]
    [(0, 262144), (262144, 524288), (524288, 600000)]
    """
    step = max(_TAKE_MIN, -(-n // _TAKE_PARTS))
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)] or [slice(0, 0)]


def csr_rows(ptr: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Item positions of the CSR rows ``which`` (in that order), without a Python loop.

    >>> csr_rows(np.array([0, 2, 2, 5]), np.array([2, 0])).tolist()
    [2, 3, 4, 0, 1]
    """
    lo = ptr[which]
    n = ptr[which + 1] - lo
    return np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))


def _rounds(queues: list[_Queue], state: np.ndarray) -> list[_Queue]:
    """Settle arcs by rounds while rounds pay; returns the queues that still hold open arcs.

    A round costs about one pass over the queues; when the last two rounds
    settled fewer than one arc per ``_PAYS`` queue entries, the one-by-one scan
    of what is left is cheaper (long chains of arcs that wait on each other).
    """
    open_turns = _index(np.flatnonzero(state == _OPEN), state.size)
    history: list[tuple[int, int]] = []
    while open_turns.size:
        work = sum(q.turn.size for q in queues)
        refuse = np.zeros(state.size, bool)
        unsure = np.zeros(state.size, bool)
        for q in queues:
            _bounds(q, state, refuse, unsure)
        refuse_now = refuse[open_turns]
        state[open_turns[refuse_now]] = _REFUSED
        state[open_turns[~refuse_now & ~unsure[open_turns]]] = _TAKEN
        before = open_turns.size
        open_turns = open_turns[state[open_turns] == _OPEN]
        queues = [q for q in queues if _settle(q, state)]
        history = history[-1:] + [(before - open_turns.size, work)]
        if len(history) == 2 and sum(h[0] for h in history) * _PAYS < sum(h[1] for h in history):
            break
    return queues


def _one_by_one(queues: list[_Queue], state: np.ndarray) -> None:
    """Settle the open arcs one at a time, in turn order, a window of turns at a time.

    An open arc has one entry per queue it is in: its group (numbered across
    queues), its amount and the room its group has at its turn before the arcs
    settled here (``left``); ``used`` counts what the arcs settled here take.
    """
    left = [_open_room(q, state) for q in queues]
    offset = np.cumsum([0] + [q.room.size for q in queues])
    used = np.zeros(int(offset[-1]), np.int64).data
    open_turns = np.flatnonzero(state == _OPEN)
    for lo in range(0, open_turns.size, _CHUNK):
        first, last = open_turns[lo], open_turns[min(lo + _CHUNK, open_turns.size) - 1]
        parts = []
        for q, room, off in zip(queues, left, offset.tolist()):
            at = np.flatnonzero((q.turn >= first) & (q.turn <= last))
            amount = np.ones(at.size, np.int64) if q.amount is None else q.amount[at].astype(np.int64)
            parts.append((q.turn[at], q.group[at].astype(np.int64) + off, amount, room[at]))
        turn, key, amount, room = (np.concatenate(x) for x in zip(*parts))
        by_turn = stable_order(turn - first)
        turn = turn[by_turn]
        starts = np.flatnonzero(np.diff(turn, prepend=-1))
        won = _scan(np.append(starts, turn.size).data, key[by_turn].data, amount[by_turn].data,
                    room[by_turn].data, used)
        state[turn[starts]] = np.where(np.frombuffer(won, np.uint8) > 0, _TAKEN, _REFUSED)


def _open_room(q: _Queue, state: np.ndarray) -> np.ndarray:
    """Keep only the open entries of ``q``; returns the room each has at its turn (taken arcs before it
    deducted)."""
    keep = np.zeros(q.turn.size, bool)
    left = []
    for sl in q.chunks():
        s = state[q.turn[sl]]
        keep[sl] = s == _OPEN
        before = q.before(np.where(s == _TAKEN, q.amounts(sl), 0), sl)
        left.append((q.room[q.group[sl]] - before)[keep[sl]])
    q.keep(keep)
    return np.concatenate(left)


def _scan(ptr: memoryview, key: memoryview, amount: memoryview, room: memoryview, used: memoryview) -> bytearray:
    """The sequential essence: arc ``i`` (entries ``ptr[i]:ptr[i + 1]``) is taken when each of
    its groups still has room for it; scalars only, no per-arc object."""
    won = bytearray(len(ptr) - 1)
    for i in range(len(ptr) - 1):
        lo, hi = ptr[i], ptr[i + 1]
        for j in range(lo, hi):
            if used[key[j]] + amount[j] > room[j]:
                break
        else:
            for j in range(lo, hi):
                used[key[j]] += amount[j]
            won[i] = 1
    return won


def _bounds(q: _Queue, state: np.ndarray, refuse: np.ndarray, unsure: np.ndarray) -> None:
    """Mark the open arcs of ``q`` that cannot fit (``refuse``) or might not fit (``unsure``)."""
    for sl in q.chunks():
        turn = q.turn[sl]
        s = state[turn]
        is_open = s == _OPEN
        room = q.room[q.group[sl]]
        amount = q.amounts(sl)
        room -= amount
        low = q.before(np.where(s == _TAKEN, amount, 0), sl)  # used by the arcs taken before it
        refuse[turn[is_open & (low > room)]] = True
        del low
        high = q.before(amount, sl)  # used if every arc open before it were taken
        unsure[turn[is_open & (high > room)]] = True


def _settle(q: _Queue, state: np.ndarray) -> bool:
    """Drop what no open arc depends on any more; False when the queue has no open arc left.

    Refused arcs use nothing; a taken arc before every open arc of its group
    moves into the group's ``room``; one after every open arc weighs on none.
    """
    keep = np.zeros(q.turn.size, bool)
    for sl in q.chunks():
        s = state[q.turn[sl]]
        is_open = s == _OPEN
        n_open = is_open.astype(np.int64)
        open_before = q.before(n_open, sl)
        g0 = int(q.group[sl.start])
        local = q.group[sl] - g0
        n_groups = int(local[-1]) + 1
        open_after = np.bincount(local[is_open], minlength=n_groups)[local] - open_before - n_open
        taken = s == _TAKEN
        fold = taken & (open_before == 0)
        w = None if q.amount is None else q.amount[sl][fold].astype(np.float64)
        q.room[g0:g0 + n_groups] -= np.rint(np.bincount(local[fold], weights=w, minlength=n_groups)).astype(np.int64)
        keep[sl] = is_open | (taken & (open_before > 0) & (open_after > 0))
    if not keep.any():
        return False
    q.keep(keep)
    return True
