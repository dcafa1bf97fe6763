"""``km.simulate(..., commit_days=...)``: deferred commitment, and ``batch_known``, the ceiling of a year.

Deferred years are feasible, pinned pairs never move, the last batch leaves nothing tentative;
no deferred year beats the batch-known optimum, which keeps exactly the pairs some batch date can
make; with everything known from the start a deferred year is the hindsight optimum (brute force);
a horizon that covers the year commits at once; the parameters and the command line.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match import cli
from koeeo_match.model import NO_DATE

from conftest import brute_force, day, eligible_pairs, make
from test_properties import MAX_PAIRS, SETTINGS, problems
from test_simulate import assert_known_in_time, assert_nothing_moves, tiny_years, yearly

sim = importlib.import_module("koeeo_match.simulate")


@st.composite
def every_rule_years(draw):
    """``tiny_years`` with every rule (teams, caps, budgets) and forced pairs (which hold their capacity
    from the first day: they used to be forced only in the first batch where both sides were open, by
    which time a batch could have given their employee's hours away)."""
    records = dict(draw(problems()))
    for e in records["employees"]:
        e.pop("joined", None)
        j = draw(st.sampled_from([None, "2027-02-27", "2027-02-28", "2027-03-01", "2027-03-02"]))
        if j is not None:
            e["joined"] = j
    return records


def forced_hold(problem) -> bool:
    """Whether the forced pairs alone break no rule (team minimums aside): else simulate refuses."""
    F = problem.forced
    pairs = list(zip(problem.employees.ids[F.employee].tolist(), problem.missions.ids[F.mission].tolist()))
    return not [v for v in km.check(problem, pairs) if v.rule != "team_minimum"]


def assert_deferred_year(problem, year):
    assert km.check(problem, year.solution) == []
    assert_nothing_moves(year)
    assert_known_in_time(problem, year)
    assert year.batches[-1].tentative == 0
    assert all(b.tentative >= 0 for b in year.batches)


# ----------------------------------------------------------------------------- feasibility and the ceiling
@settings(max_examples=40, **SETTINGS)
@given(every_rule_years(), st.sampled_from([0, 1, 3]), st.sampled_from(["daily", "weekly"]))
def test_a_deferred_year_is_feasible_and_never_beats_its_batch_known_optimum(records, commit_days, batch):
    problem = make(**records)
    assume(0 < len(eligible_pairs(problem)) <= MAX_PAIRS and (problem.missions.date != NO_DATE).any())
    if not forced_hold(problem):
        with pytest.raises(km.InvalidProblemError, match="the forced pairs alone break it"):
            km.simulate(problem, batch=batch, method="cpsat", commit_days=commit_days)
        return
    year = km.simulate(problem, batch=batch, method="cpsat", commit_days=commit_days)
    assert_deferred_year(problem, year)
    known = sim.batch_known(problem, batch)  # may leave missions out: its solution indexes its own tables
    ceiling = km.solve(known, method="cpsat")
    hindsight = brute_force(problem, "max_hours", max_pairs=MAX_PAIRS)
    hours = float(problem.missions.hours[year.solution.mission].sum())
    assert hours <= float(known.missions.hours[ceiling.mission].sum()) + 1e-9 <= hindsight.primary + 2e-9


@settings(max_examples=60, **SETTINGS)
@given(tiny_years(), st.sampled_from(["daily", "weekly", "monthly"]))
def test_batch_known_keeps_exactly_the_pairs_some_batch_date_can_make(records, batch):
    problem = make(**records)
    assume((problem.missions.date != NO_DATE).any() or (problem.employees.joined != NO_DATE).any()
           or (problem.missions.posted != NO_DATE).any())
    dates = sim.batch_dates(problem, batch).tolist()
    E, M = problem.employees, problem.missions

    def some_batch(e: int, m: int) -> bool:
        j, p, d = int(E.joined[e]), int(M.posted[m]), int(M.date[m])
        return any((j == NO_DATE or j <= b) and (p == NO_DATE or p <= b) and (d == NO_DATE or b < d) for b in dates)

    want = {(E.ids[e], M.ids[m]) for e, m in eligible_pairs(problem) if some_batch(e, m)}
    q = sim.batch_known(problem, batch)
    got = {(q.employees.ids[e], q.missions.ids[m]) for e, m in eligible_pairs(q)}
    assert got == want


# ----------------------------------------------------------------------------- hindsight and commitment at once
@settings(max_examples=40, **SETTINGS)
@given(problems(), st.sampled_from([0, 2]), st.sampled_from(["daily", "weekly"]))
def test_everything_known_from_the_start_a_deferred_year_is_the_hindsight_optimum(records, commit_days, batch):
    for e in records["employees"]:
        e.pop("joined", None)
    for m in records["missions"]:
        m.pop("posted", None)
    problem = make(**records)
    assume(0 < len(eligible_pairs(problem)) <= MAX_PAIRS and (problem.missions.date != NO_DATE).any())
    best = brute_force(problem, "max_hours", max_pairs=MAX_PAIRS)
    assume(best.pairs is not None)
    year = km.simulate(problem, batch=batch, method="cpsat", commit_days=commit_days)
    assert_deferred_year(problem, year)
    assert float(problem.missions.hours[year.solution.mission].sum()) == pytest.approx(best.primary)


@pytest.fixture(scope="module")
def year_all():
    return yearly(km.synth.city(employees=120, seed=3), seed=1)


def test_a_horizon_covering_the_year_commits_at_once(year_all):
    at_once = km.simulate(year_all, batch="weekly", method="cpsat")
    covering = km.simulate(year_all, batch="weekly", method="cpsat", commit_days=1000)
    assert [(b.date, b.assignments) for b in covering.batches] == [(b.date, b.assignments) for b in at_once.batches]
    assert all(b.tentative == 0 for b in covering.batches)


@pytest.mark.parametrize("commit_days", [0, 14])
def test_a_generated_deferred_year_is_feasible_and_below_its_ceiling(year_all, commit_days):
    year = km.simulate(year_all, batch="weekly", method="auto", commit_days=commit_days)
    assert_deferred_year(year_all, year)
    assert any(b.tentative for b in year.batches)
    ceiling = km.solve(sim.batch_known(year_all, "weekly"), method="auto")
    assert ceiling.status == km.Status.OPTIMAL
    assert year.solution.objective <= ceiling.objective + 1e-9
    # a pinned pair is dated before the next batch or within the horizon (or made by the last batch)
    dates = [day(b.date) for b in year.batches]
    mdate = dict(zip(year_all.missions.ids.tolist(), year_all.missions.date.tolist()))
    last = int(sim.batch_dates(year_all, "daily")[-1])
    for t, nxt, b in zip(dates, dates[1:] + [None], year.batches):
        for _, m in b.assignments:
            d = last + 1 if mdate[m] == NO_DATE else mdate[m]
            assert nxt is None or d <= max(nxt, t + commit_days), (b.date, m)


# ----------------------------------------------------------------------------- a hand-made case
RECORDS = dict(
    employees=[{"id": "e1", "skills": {"law": 1}}, {"id": "e2", "joined": "2027-03-10"}],
    missions=[{"id": "m1", "date": "2027-03-20", "posted": "2027-03-09", "skills": {"law": 1}},
              {"id": "m2", "date": "2027-03-19", "posted": "2027-03-01"}])


@pytest.mark.parametrize("method", ["flow", "cpsat", "auto", "greedy"])
def test_waiting_lets_a_later_sign_up_take_the_mission_an_early_one_would_have_taken(method):
    p = make(**RECORDS)
    assert km.simulate(p, method=method).solution.objective == 7.0
    year = km.simulate(p, method=method, commit_days=0)
    assert year.solution.objective == 14.0 == brute_force(p).primary
    assert [len(b.assignments) for b in year.batches] == [0, 0, 2]
    assert [b.tentative for b in year.batches] == [1, 1, 0]
    # a horizon reaching m2's date from the first batch pins it there
    assert km.simulate(p, method=method, commit_days=18).batches[0].assignments == (("e1", "m2"),)


def test_records_table_and_text_table_show_the_tentative_pairs():
    year = km.simulate(make(**RECORDS), method="flow", commit_days=0)
    assert "tentative" in year.format_table().splitlines()[0]
    assert year.table()["tentative"].tolist() == [1, 1, 0]
    assert "tentative" not in km.simulate(make(**RECORDS), method="flow").format_table().splitlines()[0]


def test_due():
    dates = np.array([10, 17, 18, 40, NO_DATE])
    assert sim.due(dates, 10, 17, 0, 99).tolist() == [True, True, False, False, False]
    assert sim.due(dates, 10, 17, 30, 99).tolist() == [True, True, True, True, False]
    assert sim.due(dates, 70, 77, 30, 99).tolist() == [True] * 5
    assert sim.due(dates, 10, None, 0, 99).tolist() == [True] * 5


# ----------------------------------------------------------------------------- parameters and the command line
@pytest.mark.parametrize("kw, text", [({"commit_days": -1}, "must be an integer >= 0 days or None"),
                                      ({"commit_days": 1.5}, "must be an integer >= 0 days or None"),
                                      ({"commit_days": 7, "method": "fcfs"}, "must be None with method='fcfs'")])
def test_bad_commit_days_are_named(kw, text):
    with pytest.raises(km.InvalidParameterError, match=f"The 'commit_days' parameter of simulate {text}"):
        km.simulate(make(**RECORDS), **kw)


def test_batch_known_bad_batch_is_named():
    with pytest.raises(km.InvalidParameterError, match="The 'batch' parameter of batch_known"):
        sim.batch_known(make(**RECORDS), "yearly")


def test_cli_simulate_commit_days(tmp_path, capsys):
    prob, out = tmp_path / "p.json", tmp_path / "s.json"
    km.dump(make(**RECORDS), str(prob))
    assert cli.main(["simulate", str(prob), "-o", str(out), "--method", "flow", "--commit-days", "0"]) == 0
    captured = capsys.readouterr()
    assert "tentative" in captured.out.splitlines()[0] and "1 tentative" in captured.err
    assert km.load(str(out)).objective == 14.0
    with pytest.raises(SystemExit) as ex:
        cli.main(["simulate", str(prob), "-o", str(out), "--commit-days", "-1"])
    assert ex.value.code == 2 and "argument --commit-days" in capsys.readouterr().err
    assert cli.main(["simulate", str(prob), "-o", str(out), "--method", "fcfs", "--commit-days", "3"]) == 2
    assert "commit_days" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the online fill
SHORT = dict(
    employees=[{"id": "e1", "hours": 14}, {"id": "e2", "joined": "2027-03-03"}],
    missions=[{"id": "long", "date": "2027-03-20", "posted": "2027-03-01"},
              {"id": "short", "date": "2027-03-06", "posted": "2027-03-03"},
              {"id": "late", "date": "2027-03-21", "posted": "2027-03-16"}])


def assert_fill_records(problem, year):
    """Records in strictly increasing date order; a fill record pinned something, and only missions that
    no later batch could make (dated no later than the next batch date)."""
    dates = [day(b.date) for b in year.batches]
    assert dates == sorted(set(dates))
    batch_days = [day(b.date) for b in year.batches if b.kind == "batch"]
    mdate = dict(zip(problem.missions.ids.tolist(), problem.missions.date.tolist()))
    for b in year.batches:
        assert b.kind in ("batch", "fill")
        if b.kind == "fill":
            assert b.assignments and b.tentative == 0
            nxt = [t for t in batch_days if t > day(b.date)]
            for _, m in b.assignments:
                assert not nxt or (mdate[m] != NO_DATE and mdate[m] <= nxt[0]), (b, m)


@pytest.mark.parametrize("commit_days", [None, 0])
@pytest.mark.parametrize("method", ["flow", "auto"])
def test_the_fill_serves_short_notice_missions_between_batches(method, commit_days):
    p = make(**SHORT)
    # batches on 1, 8 and 15 March: 'short' (posted on the 3rd, dated the 6th) and 'late' (posted after
    # the last batch) are lost to batches
    plain = km.simulate(p, method=method, commit_days=commit_days)
    assert {m for _, m in plain.solution.assignments} == {"long"}
    assert km.solve(sim.batch_known(p, "weekly")).objective == 7.0
    year = km.simulate(p, method=method, commit_days=commit_days, fill=True)
    assert km.check(p, year.solution) == [] and year.fill
    assert year.solution.objective == 21.0 == brute_force(p).primary
    fills = [(b.date, b.assignments) for b in year.batches if b.kind == "fill"]
    assert fills[0][0] == "2027-03-03" and [m for _, m in fills[0][1]] == ["short"]
    assert fills[-1][0] == "2027-03-16" and [m for _, m in fills[-1][1]] == ["late"]
    assert_nothing_moves(year)
    assert_known_in_time(p, year)
    assert_fill_records(p, year)
    assert "kind" in year.format_table().splitlines()[0]
    assert year.table()["kind"].tolist() == [b.kind for b in year.batches]


@pytest.mark.parametrize("method", ["cpsat", "auto"])
def test_the_fill_leaves_a_proposed_team_whole(method):
    # batches on 1, 8 and 15 March; the batch of the 1st proposes the team 'team' (dated the 20th) to e1 and
    # e2, tentatively; 'short' (posted on the 3rd, dated the 6th) can go to either of them, but taking one
    # would leave the team short (it needs both) and the other idle: 14 h beat 7 h
    p = make(employees=[{"id": "e1"}, {"id": "e2"}],
             missions=[{"id": "team", "date": "2027-03-20", "posted": "2027-03-01", "seats": 2, "min_seats": 2},
                       {"id": "short", "date": "2027-03-06", "posted": "2027-03-03"}])
    year = km.simulate(p, method=method, commit_days=0, fill=True)
    assert km.check(p, year.solution) == []
    assert year.batches[0].tentative == 2 and [b.kind for b in year.batches] == ["batch"] * 3
    assert sorted(year.solution.assignments) == [("e1", "team"), ("e2", "team")]
    assert year.solution.objective == 14.0 == brute_force(p).primary
    # without deferral nothing is proposed: the batch of the 1st pins the team at once
    assert km.simulate(p, method=method, fill=True).solution.objective == 14.0


@settings(max_examples=40, **SETTINGS)
@given(tiny_years(), st.sampled_from([None, 0, 2]), st.sampled_from(["weekly", "monthly"]))
def test_a_year_with_the_fill_is_feasible_and_below_hindsight(records, commit_days, batch):
    problem = make(**records)
    assume(0 < len(eligible_pairs(problem)) <= MAX_PAIRS)
    year = km.simulate(problem, batch=batch, method="cpsat", commit_days=commit_days, fill=True)
    assert km.check(problem, year.solution) == []
    assert_nothing_moves(year)
    assert_known_in_time(problem, year)
    assert_fill_records(problem, year)
    assert year.batches[-1].tentative == 0
    assert float(problem.missions.hours[year.solution.mission].sum()) <= brute_force(problem).primary + 1e-9


def test_the_fill_is_refused_with_online_fcfs_and_must_be_a_bool():
    with pytest.raises(km.InvalidParameterError, match="The 'fill' parameter of simulate must be False"):
        km.simulate(make(**SHORT), method="fcfs", fill=True)
    with pytest.raises(km.InvalidParameterError, match="The 'fill' parameter of simulate must be a bool"):
        km.simulate(make(**SHORT), fill=1)


def test_cli_simulate_fill(tmp_path, capsys):
    prob, out = tmp_path / "p.json", tmp_path / "s.json"
    km.dump(make(**SHORT), str(prob))
    assert cli.main(["simulate", str(prob), "-o", str(out), "--method", "flow", "--fill"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:2] == ["date", "kind"] and "(fill)" in captured.err
    assert km.load(str(out)).objective == 21.0


def test_undated_pairs_are_held_to_the_year_end_or_pinned_at_once():
    # batches on 1, 8 and 15 March (e2 joining on the 20th ends the year); 'u' is undated
    p = make(employees=[{"id": "e1"}, {"id": "e2", "joined": "2027-03-20"}],
             missions=[{"id": "u", "posted": "2027-03-01"}])
    held = km.simulate(p, method="flow", commit_days=0)
    assert [(b.date, b.assignments, b.tentative) for b in held.batches] == [
        ("2027-03-01", (), 1), ("2027-03-08", (), 1), ("2027-03-15", (("e1", "u"),), 0)]
    at_once = km.simulate(p, method="flow", commit_days=0, hold_undated=False)
    assert [(b.date, b.assignments) for b in at_once.batches][0] == ("2027-03-01", (("e1", "u"),))
    assert km.check(p, at_once.solution) == []
    with pytest.raises(km.InvalidParameterError, match="The 'hold_undated' parameter of simulate"):
        km.simulate(p, commit_days=0, hold_undated="no")


def test_cli_simulate_undated_now(tmp_path, capsys):
    prob, out = tmp_path / "p.json", tmp_path / "s.json"
    km.dump(make(employees=[{"id": "e1"}, {"id": "e2", "joined": "2027-03-20"}],
                 missions=[{"id": "u", "posted": "2027-03-01"}]), str(prob))
    assert cli.main(["simulate", str(prob), "-o", str(out), "--method", "flow", "--commit-days", "0",
                     "--undated-now"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["2027-03-01", "1"]
    assert cli.main(["simulate", str(prob), "-o", str(out), "--method", "flow", "--commit-days", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["2027-03-01", "0"]
    # without --commit-days the option is named, not km.simulate's parameter
    (tmp_path / "s2.json").unlink(missing_ok=True)
    assert cli.main(["simulate", str(prob), "-o", str(tmp_path / "s2.json"), "--undated-now"]) == 2
    err = capsys.readouterr().err
    assert "argument --undated-now: applies only with --commit-days" in err and "hold_undated" not in err
    assert not (tmp_path / "s2.json").exists()
