"""Ctrl-C (SIGINT) stops CP-SAT like a time limit: the best solution so far, said so."""

import os
import signal
import sys
import threading
import time

import pytest

import koeeo_match as km

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def hard():
    # every rule, large enough that neither solver proves optimality within a few seconds
    return km.synth.france(seed=0, region="Bretagne", scale=0.02, rules="all", multi_day_share=0.1)


@pytest.mark.parametrize("method", ["cpsat", "auto"])
def test_sigint_returns_best_solution_and_says_interrupted(hard, method):
    # Ctrl-C once a solution exists: CP-SAT's log line of its first solution ("#1 ..."), or, for
    # auto (which repairs a flow solution before CP-SAT), 3 s after it reports its parts; never
    # a fixed delay from the start, which a loaded machine could outlast
    timer = threading.Timer(3.0 if method == "auto" else 0.2, os.kill, (os.getpid(), signal.SIGINT))

    armed = []

    def progress(line: str) -> None:
        if not armed and (line.startswith("#1 ") or line.startswith("auto:")):
            armed.append(True)
            timer.start()

    before = signal.getsignal(signal.SIGINT)
    t = time.perf_counter()
    try:
        sol = km.solve(hard, method=method, seed=0, workers=1, progress=progress)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - t
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    if sol.status == km.Status.OPTIMAL:
        pytest.skip(f"{method} proved optimality before the interrupt ({elapsed:.1f} s)")
    assert sol.status == km.Status.FEASIBLE
    assert "interrupted" in sol.message
    assert km.check(hard, sol) == []
    assert sol.metrics["assigned_hours"] > 0
