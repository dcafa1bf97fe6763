"""benchmarks/year.py on a tiny year: the rows, their figures and 0 violations (no timing asserts)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import koeeo_match as km

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`

from benchmarks import year as bench  # noqa: E402

LABELS = ["hindsight optimum", "auto, daily", "auto, weekly", "auto, monthly", "online fcfs (daily)",
          "greedy, weekly"]


@pytest.fixture(scope="module")
def tiny():
    p = km.synth.city(employees=60, seed=0, year=True)
    return p, bench.run(p, seed=0)


def test_the_rows_are_every_method_with_zero_violations(tiny):
    p, res = tiny
    rows = res["rows"]
    assert [r["label"] for r in rows] == LABELS
    assert [(r["method"], r["batch"]) for r in rows] == [
        ("auto", None), ("auto", "daily"), ("auto", "weekly"), ("auto", "monthly"), ("fcfs", "daily"),
        ("greedy", "weekly")]
    best = res["hindsight_hours"]
    assert best == rows[0]["hours"] > 0 and rows[0]["status"] == "optimal"
    for r in rows:
        assert r["violations"] == 0, r["label"]
        assert 0 <= r["hours"] <= best + 1e-9
        assert r["share_of_hindsight"] == pytest.approx(r["hours"] / best)
        assert r["hours"] == pytest.approx(r["assigned_hours"])
        for k in ("missions_filled_share", "missions_started_share", "employees_assigned_share"):
            assert 0 <= r[k] <= 1, (r["label"], k)
        assert r["seconds"] >= 0 and r["peak_rss_bytes"] > 0
    assert rows[0]["series"] is None and rows[0]["waiting_days_mean"] is None
    first, last = res["first_day"], res["last_day"]
    for r in rows[1:]:
        dates = [d for d, _ in r["series"]]
        cum = [h for _, h in r["series"]]
        assert len(dates) == r["batches"] and dates == sorted(dates) and first <= dates[0] and dates[-1] <= last
        assert np.all(np.diff(cum) >= 0) and cum[-1] == pytest.approx(r["hours"])  # no cancellations
        assert 0 <= r["waiting_days_median"] <= r["waiting_days_p90"] and r["waiting_days_mean"] >= 0
        assert r["seconds_per_batch_max"] >= r["seconds_per_batch_mean"] >= 0
    # fewer batches in the year as the interval grows
    assert rows[1]["batches"] > rows[2]["batches"] > rows[3]["batches"]
    table = bench.table({"rows": rows})
    assert table.count("\n") == len(rows) + 1 and "| hindsight optimum | – |" in table


def test_waiting_counts_from_joining_or_the_first_batch_date():
    p = km.Problem.from_records(
        associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
        employees=[{"id": "e1", "lat": 45.0, "lon": 5.0},
                   {"id": "e2", "lat": 45.0, "lon": 5.0, "joined": "2027-03-10"}],
        missions=[{"id": "m1", "association": "a", "date": "2027-03-05", "posted": "2027-03-01"},
                  {"id": "m2", "association": "a", "date": "2027-03-20", "posted": "2027-03-01"}])
    y = km.simulate(p, batch="weekly", method="flow")
    assert [(b.date, b.assignments) for b in y.batches][::2] == [("2027-03-01", (("e1", "m1"),)),
                                                                  ("2027-03-15", (("e2", "m2"),))]
    # e1 (no joined) from the first batch date 2027-03-01: 0 days; e2 from 2027-03-10 to 2027-03-15: 5 days
    assert bench.waiting_days(p, y).tolist() == [0, 5]
    assert bench.waiting_days(p, y, joined_only=True).tolist() == [5]
