"""When ``auto``'s searches stop: each task's share of the time left, and Ctrl-C.

A time limit is a deadline (``time.monotonic()``) for every part's search; a
task gets a share of the time left *when it starts* (:func:`shares`), so that
budgets follow what the earlier tasks really used.  Ctrl-C (SIGINT) during
``auto`` sets :data:`INTERRUPTED`, which every search step checks: the search
stops and returns the best feasible solution found.

Steps that cannot be stopped once started (a min-cost flow, SciPy's
HiGHS building and reading back an LP, the greedy) start under a time limit
only when their estimate, a measured rate times their size (:func:`estimate`),
fits in what is left (:func:`fits`); docs/solvers.md, "Time limits".
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TypeVar

import numpy as np

__all__ = ["INTERRUPTED", "CtrlC", "SigintFlag", "budget", "shares", "left", "fits", "estimate", "stopped",
           "deadline_after", "FLOW_SECONDS_PER_ARC", "PRICED_SECONDS_PER_ARC", "GREEDY_SECONDS_PER_ARC",
           "LP_SETUP_SECONDS_PER_ARC"]

#: Seconds per arc of the steps that cannot be interrupted, measured on the 2-core machine of
#: docs/solvers.md ("Time limits": 2,072,704 arcs, Bretagne 30,000, load 1-5): one OR-Tools
#: min-cost flow of a warm start with its network (3.3 s), the greedy repair (0.95 s), and SciPy's
#: HiGHS building, passing and reading back the LP relaxation (7 s when HiGHS stops at once: its
#: presolve ignores its time limit).  Rounded up.
FLOW_SECONDS_PER_ARC = 2.0e-6
#: A priced solve's round (:mod:`.priced`): the flow with its network, the potentials that certify
#: it and the prices read from them; 2.6-3.8 us an arc over the 9 rounds of département 35
#: (241,024-432,473 arcs, load 1.3).  Rounded up.
PRICED_SECONDS_PER_ARC = 4.0e-6
GREEDY_SECONDS_PER_ARC = 6.0e-7
LP_SETUP_SECONDS_PER_ARC = 4.0e-6

#: Set by Ctrl-C during ``auto`` (see :class:`CtrlC`); read by every search step.
INTERRUPTED = threading.Event()


def _on_sigint(signum, frame):  # pragma: no cover - exercised by hand (Ctrl-C)
    INTERRUPTED.set()


class CtrlC:
    """A context in which Ctrl-C sets :data:`INTERRUPTED` instead of raising (main thread only);
    ``happened`` tells, on exit, whether it did.  The main thread's outermost such context clears
    the flag on entry and on exit (for later direct calls of the search steps); another thread's
    never does (Ctrl-C reaches the main thread only), and a context inside another keeps it, so
    that a Ctrl-C the outer one caught still stops what runs inside (the answer at once of
    ``km.solve`` after a Ctrl-C during its graph's build)."""

    _depth = threading.local()  # the contexts open in this thread

    def __init__(self) -> None:
        self.happened = False
        # what signal.signal returns: the previous handler (None if it was not set from Python)
        self._old: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> CtrlC:
        main = threading.current_thread() is threading.main_thread()
        depth = getattr(CtrlC._depth, "n", 0)
        if depth == 0 and main:  # only the main thread catches Ctrl-C: another's context leaves the flag be
            INTERRUPTED.clear()
        CtrlC._depth.n = depth + 1
        if main:
            self._old = signal.signal(signal.SIGINT, _on_sigint)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # counted down while Ctrl-C still only sets the flag: a second Ctrl-C cannot skip it
        self.happened = INTERRUPTED.is_set()
        CtrlC._depth.n -= 1
        if CtrlC._depth.n == 0 and threading.current_thread() is threading.main_thread():
            INTERRUPTED.clear()
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


_Flag = TypeVar("_Flag", bound="SigintFlag")


class SigintFlag:
    """A context in which Ctrl-C (main thread only) sets ``sigint`` instead of raising, then calls
    the previous handler unless it is Python's default (so that an ``auto`` solve around it, under
    :class:`CtrlC`, sets :data:`INTERRUPTED` too): what a solver that is also called alone watches."""

    def __init__(self, on_hit: Callable[[], object] | None = None) -> None:
        self.sigint = threading.Event()
        self._on_hit = on_hit  # called on Ctrl-C too (e.g. a solver's stop)
        # what signal.getsignal returns: the previous handler (None if it was not set from Python)
        self._old: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self: _Flag) -> _Flag:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)

            def on_sigint(signum: int, frame: FrameType | None) -> None:  # pragma: no cover - by hand
                self.sigint.set()
                if self._on_hit is not None:
                    self._on_hit()
                if callable(previous) and previous is not signal.default_int_handler:
                    previous(signum, frame)

            self._old = previous
            signal.signal(signal.SIGINT, on_sigint)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def deadline_after(seconds: float | None) -> float | None:
    """The deadline (``time.monotonic()``) ``seconds`` from now (None: no limit)."""
    return None if seconds is None else time.monotonic() + seconds


def left(deadline: float | None) -> float | None:
    """Seconds left to ``deadline`` (``time.monotonic()``; ``None``: no limit), never below 0."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def fits(deadline: float | None, seconds: float) -> bool:
    """Whether a step of about ``seconds`` ends by ``deadline`` (always, without one)."""
    return deadline is None or time.monotonic() + seconds <= deadline


def estimate(per_arc: float, arcs: int) -> float:
    """Seconds of an uninterruptible step over ``arcs`` arcs at ``per_arc`` seconds each.

    >>> estimate(FLOW_SECONDS_PER_ARC, 1_000_000)
    2.0
    """
    return per_arc * arcs


def stopped(deadline: float | None) -> bool:
    """Whether the search must stop now: Ctrl-C (:data:`INTERRUPTED`) or ``deadline`` passed."""
    return INTERRUPTED.is_set() or (deadline is not None and time.monotonic() >= deadline)


def budget(deadline: float | None, share: float | None) -> float | None:
    """Seconds a task may search now: its ``share`` of the time left to ``deadline``."""
    return None if deadline is None else (deadline - time.monotonic()) * min(1.0, share or 1.0)


def shares(sizes: list[int], workers: int) -> list[float]:
    """Each task's share of the time left when it starts: the pool starts tasks in order, ``workers``
    at a time, so task *i* gets ``workers x size_i / (sizes of tasks i, i+1, ...)`` of what is
    left (at most all of it).  Budgets then follow what the earlier tasks really used, and the
    last tasks do not stop early while time is left.

    >>> shares([30, 10, 10], 1)
    [0.6, 0.5, 1.0]
    """
    size = np.array(sizes, np.float64)
    rest = np.cumsum(size[::-1])[::-1]
    return [min(1.0, workers * s / max(r, 1.0)) for s, r in zip(size.tolist(), rest.tolist())]
