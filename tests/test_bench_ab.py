"""benchmarks/ab.py's arms: each switches what it says, and both reach the same optimum (no timing asserts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`

from benchmarks import ab  # noqa: E402
from koeeo_match.candidates import _scan  # noqa: E402
from koeeo_match.solvers import _mcf  # noqa: E402

SMALL = {"scale": 0.001}  # km.synth.france(seed=0, scale=0.001, rules="flow"): about 2,900 employees


@pytest.mark.parametrize("setting", ab.SETTINGS)
def test_both_arms_reach_the_same_optimum(setting, monkeypatch):
    monkeypatch.setattr(_mcf, "HAS_LEMON", _mcf.HAS_LEMON)  # restored after the test: arm B changes them
    monkeypatch.setattr(_scan, "_BATCH", _scan._BATCH)
    a = ab.child(setting, "A", SMALL)
    b = ab.child(setting, "B", SMALL)
    assert a["status"] == b["status"] == "optimal"
    assert a["objective"] == b["objective"] > 0


def test_arm_b_switches_its_setting(monkeypatch):
    monkeypatch.setattr(_mcf, "HAS_LEMON", True)
    monkeypatch.setattr(_scan, "_BATCH", 200_000)
    ab._arm_b("lemon")
    assert _mcf.HAS_LEMON is False and _scan._BATCH == 200_000
    ab._arm_b("scan-batches")
    assert _scan._BATCH == 1
