"""benchmarks/ab.py's arms: each switches what it says, and both reach the same optimum (no timing asserts)."""

from __future__ import annotations

import json
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
    assert (_mcf.HAS_LEMON is False) if setting == "lemon" else (_scan._BATCH == 1)  # arm B ran switched
    assert a["status"] == b["status"] == "optimal"
    assert a["objective"] == b["objective"] > 0


def test_arm_b_switches_its_setting(monkeypatch):
    monkeypatch.setattr(_mcf, "HAS_LEMON", True)
    monkeypatch.setattr(_scan, "_BATCH", 200_000)
    ab._arm_b("lemon")
    assert _mcf.HAS_LEMON is False and _scan._BATCH == 200_000
    ab._arm_b("scan-batches")
    assert _scan._BATCH == 1


def test_pairs_alternate_and_the_median_is_recorded(monkeypatch, tmp_path):
    """main() with stubbed arms: the order alternates AB, BA, ...; each pair's ratio is B/A and the
    run records their median; a pair whose arms disagree on the optimum fails the run."""
    seconds = {"A": iter([10.0, 10.0, 10.0]), "B": iter([11.0, 14.0, 30.0])}
    calls: list[str] = []

    def fake(setting, arm, kw):
        calls.append(arm)
        return {"arm": arm, "seconds": next(seconds[arm]), "objective": 5.0, "status": "optimal",
                "peak_rss_bytes": 1}

    monkeypatch.setattr(ab, "_run_arm", fake)
    out = tmp_path / "ab.json"
    assert ab.main(["--setting", "scan-batches", "--departement", "35", "--pairs", "3", "--out", str(out)]) == 0
    assert calls == ["A", "B", "B", "A", "A", "B"]
    run = json.loads(out.read_text())["runs"][0]
    assert [p["ratio"] for p in run["pairs"]] == [1.1, 1.4, 3.0] and run["median_ratio"] == 1.4
    assert [p["order"] for p in run["pairs"]] == ["AB", "BA", "AB"]

    monkeypatch.setattr(ab, "_run_arm", lambda s, arm, kw: {"arm": arm, "seconds": 1.0, "status": "optimal",
                                                             "objective": 5.0 if arm == "A" else 4.0,
                                                             "peak_rss_bytes": 1})
    assert ab.main(["--setting", "scan-batches", "--departement", "35", "--pairs", "1", "--out", str(out)]) == 1
