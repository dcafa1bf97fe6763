"""benchmarks/one.py's peer runs on a small instance: their exact optima pass km.check (no timing asserts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`

from benchmarks import one  # noqa: E402
from benchmarks.common import make_problem  # noqa: E402


@pytest.mark.parametrize("method", ["mcf-peer", "scipy-matching"])
def test_a_peers_proven_optimum_breaks_no_rule(method):
    """A peer's optimum was checked as a Solution with status optimal and no bound: km.check's
    ``recorded_status`` counted a violation on every peer run of ``python -m benchmarks --quick`` (a helper's
    run of the README's commands)."""
    out = one.run_peer(method, lambda: make_problem(1000), 5, None)
    assert out["graph_optimal"] and out["bound"] == out["objective"]
    assert (out["violations"], out["violation_rules"]) == (0, [])
