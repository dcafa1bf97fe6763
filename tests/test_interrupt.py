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
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    before = signal.getsignal(signal.SIGINT)
    t = time.perf_counter()
    timer.start()
    try:
        sol = km.solve(hard, method=method, seed=0, workers=1)
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
