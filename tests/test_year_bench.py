"""benchmarks/year.py on a tiny year: the rows, their figures and 0 violations (no timing asserts)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import koeeo_match as km

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`

from benchmarks import year as bench  # noqa: E402

LABELS = ["hindsight optimum", "batch-known optimum, daily", "batch-known optimum, weekly",
          "batch-known optimum, monthly", "auto, daily", "auto, weekly", "auto, monthly", "online fcfs (daily)",
          "greedy, weekly", "auto, weekly, deferred 0 d", "auto, weekly, fill", "auto, monthly, deferred 28 d + fill",
          "auto, weekly, deferred 0 d (undated at once)"]
CEILINGS = 3


@pytest.fixture(scope="module")
def tiny():
    p = km.synth.city(employees=60, seed=0, year=True)
    return p, bench.run(p, seed=0, variants=(("weekly", 0, False, True), ("weekly", None, True, True),
                                              ("monthly", 28, True, True), ("weekly", 0, False, False)))


def test_the_rows_are_every_method_with_zero_violations(tiny):
    p, res = tiny
    rows = res["rows"]
    assert [r["label"] for r in rows] == LABELS
    assert [(r["method"], r["batch"], r["commit_days"], r["fill"]) for r in rows] == [
        ("auto", None, None, False), ("auto", "daily", None, False), ("auto", "weekly", None, False),
        ("auto", "monthly", None, False), ("auto", "daily", None, False), ("auto", "weekly", None, False),
        ("auto", "monthly", None, False), ("fcfs", "daily", None, False), ("greedy", "weekly", None, False),
        ("auto", "weekly", 0, False), ("auto", "weekly", None, True), ("auto", "monthly", 28, True),
        ("auto", "weekly", 0, False)]
    assert [r["hold_undated"] for r in rows][-1:] == [False]
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
        assert 0 <= r["team_hours"] <= r["hours"] + 1e-9 and r["teams_staffed"] >= 0
        assert (r["team_hours"] > 0) == (r["teams_staffed"] > 0)
    for r in rows[:1 + CEILINGS]:
        assert r["series"] is None and r["waiting_days_mean"] is None and r["notice_days_median"] is None
    # no year of batches alone beats the batch-known optimum at its frequency (the fill may)
    ceiling = {r["batch"]: r["hours"] for r in rows[1:1 + CEILINGS]}
    assert all(r["hours"] <= ceiling[r["batch"]] + 1e-9 for r in rows[1 + CEILINGS:]
               if r["method"] == "auto" and not r["fill"])
    first, last = res["first_day"], res["last_day"]
    for r in rows[1 + CEILINGS:]:
        dates = [d for d, _ in r["series"]]
        cum = [h for _, h in r["series"]]
        assert len(dates) == r["batches"] + r["fill_days"]
        assert dates == sorted(dates) and first <= dates[0] and dates[-1] <= last
        assert np.all(np.diff(cum) >= 0) and cum[-1] == pytest.approx(r["hours"])  # no cancellations
        assert 0 <= r["waiting_days_median"] <= r["waiting_days_p90"] and r["waiting_days_mean"] >= 0
        assert r["seconds_per_batch_mean"] >= 0 and r["seconds_per_batch_max"] >= 0
        assert (r["fill_days"] > 0) == r["fill"]
        assert r["notice_days_median"] >= r["notice_days_p10"] >= 1  # confirmed at least a day ahead
    # fewer batches in the year as the interval grows
    auto = rows[1 + CEILINGS:4 + CEILINGS]
    assert auto[0]["batches"] > auto[1]["batches"] > auto[2]["batches"]
    table = bench.table({"rows": rows})
    assert table.count("\n") == len(rows) + 1 and "| hindsight optimum | – |" in table


def test_waiting_counts_from_joining_or_the_first_batch_date():
    p = km.Problem.from_records(
        associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
        employees=[{"id": "e1", "lat": 45.0, "lon": 5.0},
                   {"id": "e2", "lat": 45.0, "lon": 5.0, "joined": "2027-03-10"}],
        missions=[{"id": "m1", "association": "a", "date": "2027-03-05", "posted": "2027-03-01"},
                  {"id": "m2", "association": "a", "date": "2027-03-20", "posted": "2027-03-01",
                   "lat": 45.05, "lon": 5.0}])  # farther: e1 takes m1, no tie for a solver to break
    y = km.simulate(p, batch="weekly", method="flow")
    assert [(b.date, b.assignments) for b in y.batches][::2] == [("2027-03-01", (("e1", "m1"),)),
                                                                  ("2027-03-15", (("e2", "m2"),))]
    # e1 (no joined) from the first batch date 2027-03-01: 0 days; e2 from 2027-03-10 to 2027-03-15: 5 days
    assert bench.waiting_days(p, y).tolist() == [0, 5]
    assert bench.waiting_days(p, y, joined_only=True).tolist() == [5]


def test_summary_lists_the_ceilings_and_the_deferred_rows(tiny):
    p, res = tiny
    text = bench.summary({"runs": [dict(res, region="Somewhere", employees=60, seed=0, rules="all")]})
    head, _, row = text.splitlines()
    assert "batch-known optimum, weekly" in head and "auto, weekly, deferred 0 d" in head and "fill" in head
    assert row.count("|") == head.count("|") and " d) |" in row


def test_notice_counts_from_the_confirming_batch_to_the_mission_date():
    p = km.Problem.from_records(
        associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
        employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "skills": {"law": 1}},
                   {"id": "e2", "lat": 45.0, "lon": 5.0, "joined": "2027-03-10"}],
        missions=[{"id": "m1", "association": "a", "date": "2027-03-20", "posted": "2027-03-09",
                   "skills": {"law": 1}},
                  {"id": "m2", "association": "a", "date": "2027-03-19", "posted": "2027-03-01"}])
    # at once: e1 on m2 confirmed on 1 March (18 days ahead); deferred: both on 15 March (5 and 4 days)
    assert bench.notice_days(p, km.simulate(p, method="flow")).tolist() == [18]
    assert sorted(bench.notice_days(p, km.simulate(p, method="flow", commit_days=0)).tolist()) == [4, 5]


def test_variants():
    assert bench.parse_variants("weekly:0,monthly:now+fill,daily:7+fill,weekly:0+undated-now+fill") == [
        ("weekly", 0, False, True), ("monthly", None, True, True), ("daily", 7, True, True),
        ("weekly", 0, True, False)]
    assert bench.parse_variants(",".join(bench._variant_text(v) for v in bench.VARIANTS)) == list(bench.VARIANTS)
    assert [bench.variant_label(*v) for v in bench.parse_variants("weekly:0+fill")] == [
        "auto, weekly, deferred 0 d + fill"]


@pytest.mark.parametrize("value", ["weekly", "yearly:3", "weekly:-1", "weekly:now", "weekly:0+x",
                                   "weekly:now+fill+undated-now",
                                   "weekly:0+fill+fill"])
def test_a_bad_variant_is_refused(value, capsys):
    with pytest.raises(SystemExit) as ex:
        bench.main(["--variants", value, "--no-plot"])
    assert ex.value.code == 2 and "--variants" in capsys.readouterr().err


def test_year_teams_figures_add_up():
    from benchmarks import year_teams

    p = km.synth.city(employees=300, seed=1, year=True)
    r = year_teams.diagnose(p, seed=0, leads=(56,))
    assert r["lost_teams"] >= 1  # (this year loses one team: the figures below are not all zeros)
    for side in ("batch_known_weekly", "weekly_deferred_0_fill"):
        assert r[side]["team_hours"] + r[side]["other_hours"] == pytest.approx(r[side]["hours"])
    assert r["weekly_deferred_0_fill"]["violations"] == 0
    assert r["weekly_deferred_0_fill"]["hours"] <= r["hindsight_hours"] + 1e-9
    fates = ("confirmed_before_posting", "confirmed_after_posting", "never_confirmed")
    assert sum(r[k] for k in fates) == r["lost_team_volunteers"] >= r["joined_by_posting"]
    assert (r["lost_teams"] > 0) == (r["lost_team_hours"] > 0)
    assert [w["name"] for w in r["known_more"]] == ["dated teams posted 56 days ahead", "arrivals known",
                                                    "arrivals known, dated teams posted 56 days ahead"]
    for w in r["known_more"]:
        # knowing earlier changes when pairs are known, not which: the same hindsight optimum
        assert w["hindsight_hours"] == pytest.approx(r["hindsight_hours"]) and w["violations"] == 0
        assert w["team_hours"] + w["other_hours"] == pytest.approx(w["hours"])
        assert w["hours"] <= w["hindsight_hours"] + 1e-9
    q = year_teams.posted_earlier(p, 56)
    M, N = p.missions, q.missions
    moved = N.posted != M.posted
    assert (M.min_seats[moved] > 1).all() and (N.posted[moved] < M.posted[moved]).all()
    assert (N.date[moved].astype(np.int64) - N.posted[moved] <= 56).all()
