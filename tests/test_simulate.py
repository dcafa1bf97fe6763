"""``km.simulate``: the year replayed batch by batch (issue 16, deliverable 3; DESIGN.md §8).

The year's solution passes ``km.check``; every batch adds to what was pinned and moves nothing;
no pair is made before both sides are known; a seed gives one year; at each batch a flow
allocation is the optimum of what is open (brute force on the whole problem, the pinned pairs
forced and the pairs not open forbidden: an oracle that never sees the reduced problem); online
first-come-first-served serves by day of joining; cancellations reopen seats; the command line.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match import cli
from koeeo_match.model import NO_DATE

from conftest import brute_force, day, eligible_pairs, make
from test_properties import MAX_PAIRS, SETTINGS, problems

sim = importlib.import_module("koeeo_match.simulate")  # km.simulate is the function


def yearly(problem: km.Problem, seed: int = 0) -> km.Problem:
    """``problem`` with ``joined`` and ``posted`` days drawn over its year (30 % known from the start)."""
    rng = np.random.default_rng(seed)
    E, M = problem.employees, problem.missions
    d = M.date.astype(np.int64)
    lo = int(d[d != NO_DATE].min()) - 30
    hi = int(d.max())
    joined = (lo + rng.integers(0, hi - lo, len(E))).astype(np.int32)
    joined[rng.random(len(E)) < 0.3] = NO_DATE
    ahead = rng.integers(1, 60, len(M))
    posted = np.where(d != NO_DATE, np.maximum(d - ahead, lo), lo + rng.integers(0, hi - lo, len(M)))
    return dataclasses.replace(problem, employees=dataclasses.replace(E, joined=joined),
                               missions=dataclasses.replace(M, posted=posted.astype(np.int32)))


@pytest.fixture(scope="module")
def year_all():
    return yearly(km.synth.city(employees=120, seed=3), seed=1)


@pytest.fixture(scope="module")
def year_flow():
    return yearly(km.synth.city(employees=120, seed=4, rules="flow"), seed=2)


def pairs_by_day(problem, year):
    """Every batch's pairs with the batch's day (days since 1970-01-01)."""
    return [(day(b.date), e, m) for b in year.batches for e, m in b.assignments]


def assert_known_in_time(problem, year):
    E, M = problem.employees, problem.missions
    ei = {k: i for i, k in enumerate(E.ids.tolist())}
    mi = {k: i for i, k in enumerate(M.ids.tolist())}
    for t, e, m in pairs_by_day(problem, year):
        j, p, d = int(E.joined[ei[e]]), int(M.posted[mi[m]]), int(M.date[mi[m]])
        assert j == NO_DATE or j <= t, (e, m, t)
        assert p == NO_DATE or p <= t, (e, m, t)
        assert d == NO_DATE or t < d, (e, m, t)


def assert_nothing_moves(year):
    """Replaying the records gives the year's solution: each batch is what stood plus its new pairs
    (minus what was cancelled), and a new pair was not standing already."""
    standing: set[tuple[str, str]] = set()
    hours = {}
    for b in year.batches:
        assert set(b.cancelled) <= standing | set(b.assignments)
        standing -= set(b.cancelled)
        assert not standing & set(b.assignments)
        standing |= set(b.assignments)
        hours[b.date] = b.cumulative_hours
    assert standing == set(year.solution.assignments)


# ----------------------------------------------------------------------------- feasibility, nothing moves
@pytest.mark.parametrize("method, batch", [("auto", "weekly"), ("greedy", "daily"), ("fcfs", "daily"),
                                           ("cpsat", "monthly")])
def test_the_year_is_feasible_pinned_pairs_never_move_and_both_sides_are_known(year_all, method, batch):
    year = km.simulate(year_all, batch=batch, method=method, seed=1)
    assert km.check(year_all, year.solution) == []
    assert year.solution.assignments and year.solution.status == km.Status.FEASIBLE
    assert_nothing_moves(year)
    assert_known_in_time(year_all, year)
    new = [p for b in year.batches for p in b.assignments]
    assert len(new) == len(set(new)) == len(year.solution)  # no cancellation: every pair made once, kept
    hours = year_all.missions.hours
    assert year.batches[-1].cumulative_hours == pytest.approx(float(hours[year.solution.mission].sum()))
    assert year.solution.metrics["batches"] == len(year.batches)


def test_flow_years_at_every_frequency(year_flow):
    got = {}
    for batch in ("daily", "weekly", "monthly"):
        year = km.simulate(year_flow, batch=batch, method="flow")
        assert km.check(year_flow, year.solution) == []
        assert_nothing_moves(year)
        assert_known_in_time(year_flow, year)
        got[batch] = year.solution.objective
        dates = [day(b.date) for b in year.batches]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert len(km.simulate(year_flow, batch="daily", method="flow").batches) > len(
        km.simulate(year_flow, batch="weekly", method="flow").batches)


def test_the_same_seed_gives_the_same_year(year_all):
    a = km.simulate(year_all, method="fcfs", seed=5, cancel_rate=0.2)
    b = km.simulate(year_all, method="fcfs", seed=5, cancel_rate=0.2)
    assert [(x.date, x.assignments, x.cancelled) for x in a.batches] == \
           [(x.date, x.assignments, x.cancelled) for x in b.batches]
    assert a.solution.assignments == b.solution.assignments
    c = km.simulate(year_all, method="fcfs", seed=6, cancel_rate=0.2)
    assert c.solution.assignments != a.solution.assignments


def test_batch_dates():
    p = make(employees=[{"id": "e", "joined": "2027-01-13"}],
             missions=[{"id": "m", "date": "2027-03-02", "posted": "2027-02-20"}])
    fmt = km.model.format_day
    assert [fmt(d) for d in sim.batch_dates(p, "monthly")] == ["2027-01-13", "2027-02-01", "2027-03-01"]
    assert [fmt(d) for d in sim.batch_dates(p, "weekly")][:3] == ["2027-01-13", "2027-01-20", "2027-01-27"]
    assert sim.batch_dates(p, "daily").size == day("2027-03-02") - day("2027-01-13") + 1
    # nothing dated joined/posted: the day before the first mission
    q = make(employees=[{"id": "e"}], missions=[{"id": "m", "date": "2027-03-02"}])
    assert [fmt(d) for d in sim.batch_dates(q, "weekly")] == ["2027-03-01"]


def test_a_problem_without_any_day_is_refused():
    p = make(employees=[{"id": "e"}], missions=[{"id": "m"}])
    with pytest.raises(ValueError, match="no 'joined', 'posted' or mission 'date'"):
        km.simulate(p)


def test_a_first_mission_on_the_calendars_first_day_is_named(tmp_path, capsys):
    """Without joined or posted, the year starts the day before the first mission: on 0001-01-01
    there is none, an InvalidProblemError names the mission and its date (was: 'ordinal must be >= 1')."""
    p = make(employees=[{"id": "e"}], missions=[{"id": "m0", "date": "0001-01-01"}, {"id": "m", "date": "2027-03-02"}])
    assert km.solve(p, method="greedy").assignments  # the snapshot is fine
    with pytest.raises(km.InvalidProblemError) as err:
        km.simulate(p, method="greedy", batch="monthly")
    assert [(i.kind, i.id, i.field) for i in err.value.issues] == [("mission", "m0", "date")]
    prob = tmp_path / "p.json"
    km.dump(p, str(prob))
    assert cli.main(["simulate", str(prob), "-o", str(tmp_path / "s.json")]) == 2
    assert "mission 'm0', field 'date'" in capsys.readouterr().err
    # with a day known from the start, the year starts then: m0 is never open, the rest is allocated
    q = make(employees=[{"id": "e", "joined": "0001-01-01"}], missions=[{"id": "m0", "date": "0001-01-01"},
                                                                       {"id": "m", "date": "0001-01-09"}])
    year = km.simulate(q, method="greedy", batch="weekly")
    assert [b.date for b in year.batches] == ["0001-01-01", "0001-01-08"] and year.solution.assignments == [("e", "m")]
    # a problem built in Python may hold a day before the calendar's: named too (was an error listing nothing)
    early = dataclasses.replace(p, missions=dataclasses.replace(p.missions, date=p.missions.date - np.array([5, 0])))
    with pytest.raises(km.InvalidProblemError) as err:
        km.simulate(early, method="greedy", batch="monthly")
    assert [(i.kind, i.id, i.field) for i in err.value.issues] == [("mission", "m0", "date")]


# ----------------------------------------------------------------------------- brute force per batch
DAYS0 = ["2027-02-27", "2027-02-28", "2027-03-01", "2027-03-02", "2027-03-03"]


@st.composite
def tiny_years(draw):
    records = draw(problems(flow_friendly=True))
    for e in records["employees"]:
        j = draw(st.sampled_from([None, *DAYS0]))
        if j is not None:
            e["joined"] = j
    for m in records["missions"]:
        options = [d for d in DAYS0 if "date" not in m or d <= m["date"]]
        p = draw(st.sampled_from([None, *options]))
        if p is not None:
            m["posted"] = p
    return records


def assert_each_batch_optimal(records, year):
    """At each batch, pinned hours + the batch's hours = the brute-force optimum of the whole problem
    with the pinned pairs forced and every pair not open at the batch date forbidden."""
    problem = make(**records)
    E, M = problem.employees, problem.missions
    pinned: list[tuple[str, str]] = []
    for b in year.batches:
        t = day(b.date)
        closed = [(E.ids[e], M.ids[m]) for e, m in eligible_pairs(problem)
                  if not ((E.joined[e] == NO_DATE or E.joined[e] <= t)
                          and (M.posted[m] == NO_DATE or M.posted[m] <= t)
                          and (M.date[m] == NO_DATE or t < M.date[m]))]
        closed = [p for p in closed if p not in pinned]
        rec = dict(records, forced=[{"employee": e, "mission": m} for e, m in pinned],
                   forbidden=list(records.get("forbidden", [])) + [{"employee": e, "mission": m} for e, m in closed])
        best = brute_force(make(**rec), "max_hours", max_pairs=MAX_PAIRS)
        assert best.pairs is not None
        pinned_hours = sum(float(M.hours[list(M.ids).index(m)]) for _, m in pinned)
        assert pinned_hours + b.hours == pytest.approx(best.primary), (b, pinned, best)
        pinned += list(b.assignments)


@settings(max_examples=40, **SETTINGS)
@given(tiny_years())
def test_each_flow_batch_is_the_optimum_of_what_is_open(records):
    problem = make(**records)
    assume(0 < len(eligible_pairs(problem)) <= MAX_PAIRS)
    try:
        year = km.simulate(problem, batch="daily", method="flow")
    except km.UnsupportedError:
        return  # the reduced problem has a rule a flow cannot honour: refused, never ignored
    assert km.check(problem, year.solution) == []
    assert_nothing_moves(year)
    assert_known_in_time(problem, year)
    assert_each_batch_optimal(records, year)


def test_a_flow_batch_beats_a_greedy_one_and_the_oracle_knows():
    # on Mar 1, e1 (law) can take "law" (3.5 h) or "any" (7 h), e2 only "any": the batch optimum gives
    # e1 "law" and e2 "any" (10.5 h); a greedy batch takes the best arc first, e1 on "any" (7 h)
    records = dict(employees=[{"id": "e1", "skills": {"law": 2}, "hours": 7},
                              {"id": "e2", "hours": 7, "joined": "2027-03-01"}],
                   missions=[{"id": "law", "skills": {"law": 1}, "hours": 3.5, "date": "2027-03-05",
                              "posted": "2027-03-01"},
                             {"id": "any", "hours": 7, "date": "2027-03-06", "posted": "2027-03-01"}])
    flow = km.simulate(make(**records), batch="daily", method="flow")
    assert flow.solution.objective == 10.5
    assert_each_batch_optimal(records, flow)
    greedy = km.simulate(make(**records), batch="daily", method="greedy")
    assert greedy.solution.objective == 7.0
    with pytest.raises(AssertionError):
        assert_each_batch_optimal(records, greedy)


# ----------------------------------------------------------------------------- online first-come-first-served
def test_online_fcfs_serves_by_day_of_joining_and_waiting_employees_get_later_missions():
    # early joined first, late second; the only mission is posted after both joined: the early one gets it
    p = make(employees=[{"id": "late", "joined": "2027-02-10"}, {"id": "early", "joined": "2027-02-01"}],
             missions=[{"id": "m", "date": "2027-03-10", "posted": "2027-02-20"},
                       {"id": "first", "date": "2027-02-05", "posted": "2027-02-01"}])
    year = km.simulate(p, batch="daily", method="fcfs")
    made = {pair: b.date for b in year.batches for pair in b.assignments}
    assert made == {("early", "first"): "2027-02-01", ("late", "m"): "2027-02-20"}  # early's 7 h went to "first"
    q = make(employees=[{"id": "late", "joined": "2027-02-10"}, {"id": "early", "joined": "2027-02-01"}],
             missions=[{"id": "m", "date": "2027-03-10", "posted": "2027-02-20"}])
    year = km.simulate(q, batch="weekly", method="fcfs")
    assert year.solution.assignments == [("early", "m")]
    # fcfs steps every day: the pair is made on the day it is posted, reported in the week holding it
    (b,) = [b for b in year.batches if b.assignments]
    assert day(b.date) - 7 < day("2027-02-20") <= day(b.date)


def test_online_fcfs_takes_the_mission_on_the_day_of_arrival():
    p = make(employees=[{"id": "e", "joined": "2027-02-03"}],
             missions=[{"id": "m", "date": "2027-02-05", "posted": "2027-01-01"}])
    year = km.simulate(p, batch="monthly", method="fcfs")
    assert year.solution.assignments == [("e", "m")]
    # a weekly batch (on Jan 1, 8, ..., Feb 5) comes too late for it
    assert km.simulate(p, batch="weekly", method="flow").solution.assignments == []


def test_online_fcfs_ties_are_drawn_from_the_seed():
    p = make(employees=[{"id": f"e{i}"} for i in range(6)],
             missions=[{"id": "m", "date": "2027-03-10", "posted": "2027-03-01"}])
    winners = {km.simulate(p, method="fcfs", seed=s).solution.assignments[0][0] for s in range(12)}
    assert len(winners) > 1
    assert km.simulate(p, method="fcfs", seed=3).solution.assignments == \
           km.simulate(p, method="fcfs", seed=3).solution.assignments


# ----------------------------------------------------------------------------- cancellations
def test_cancellations_reopen_seats_and_give_hours_back(year_all):
    year = km.simulate(year_all, method="greedy", batch="weekly", cancel_rate=0.5, seed=2)
    assert km.check(year_all, year.solution) == []
    assert_nothing_moves(year)
    cancelled = [p for b in year.batches for p in b.cancelled]
    assert cancelled and year.solution.metrics["cancelled"] == len(cancelled)
    assert not set(cancelled) & set(year.solution.assignments)  # a cancelled pair is not offered again
    made = [p for b in year.batches for p in b.assignments]
    assert len(made) == len(year.solution) + len(cancelled)


def test_a_cancellation_calls_off_a_team_left_short():
    p = make(employees=[{"id": f"e{i}"} for i in range(3)],
             missions=[{"id": "team", "seats": 3, "min_seats": 3, "date": "2027-03-20", "posted": "2027-03-01"}])
    year = km.simulate(p, batch="weekly", method="cpsat", cancel_rate=1.0)
    first = next(b for b in year.batches if b.assignments)
    assert len(first.assignments) == 3
    later = [c for b in year.batches for c in b.cancelled]
    assert sorted(later[:3]) == sorted(first.assignments)  # one cancelled, the others called off with it
    assert km.check(p, year.solution) == []


def test_a_participation_made_the_day_before_is_never_cancelled():
    p = make(employees=[{"id": "e"}], missions=[{"id": "m", "date": "2027-03-02", "posted": "2027-03-01"}])
    year = km.simulate(p, batch="daily", method="greedy", cancel_rate=1.0)
    assert year.solution.assignments == [("e", "m")]


# ----------------------------------------------------------------------------- records, table, parameters
def test_records_and_table(year_flow):
    year = km.simulate(year_flow, method="flow", batch="monthly")
    b = year.batches[0]
    assert {"date", "assignments", "hours", "seconds", "employees_waiting", "missions_open",
            "cumulative_hours", "cancelled", "status"} <= {f.name for f in dataclasses.fields(b)}
    assert b["date"] == b.date and b["assignments"] == b.assignments and dict(b)["hours"] == b.hours
    assert "date" in b and "nope" not in b and len(b) == len(list(b))
    assert list(b) == [f.name for f in dataclasses.fields(b)]
    with pytest.raises(KeyError):
        b["nope"]
    # a read-only mapping, as a record is read (a helper's audit: .get, .items and json failed)
    from collections.abc import Mapping
    assert isinstance(b, Mapping) and b.get("nope") is None and b.get("hours") == b.hours
    assert dict(b.items()) == dict(b) and list(b.values()) == [b[k] for k in b]
    assert json.loads(json.dumps(dict(b)))["date"] == b.date
    frame = year.table()
    assert list(frame.columns) == list(sim.COLUMNS) and len(frame) == len(year.batches)
    # the records as DESIGN.md §8 has them: the pairs themselves, and their counts beside them
    assert frame["assignments"].tolist() == [x.assignments for x in year.batches]
    assert frame["n_assignments"].tolist() == [len(x.assignments) for x in year.batches]
    assert frame["cancelled"].tolist() == [x.cancelled for x in year.batches]
    assert frame["hours"].tolist() == [x.hours for x in year.batches]
    assert frame["cumulative_hours"].iloc[-1] == pytest.approx(year.solution.objective)
    assert str(frame["date"].dtype).startswith("datetime64")


def test_table_without_pandas_names_the_extra(year_flow, monkeypatch):
    year = km.simulate(year_flow, method="greedy", batch="monthly")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"koeeo-match\[pandas\]"):
        year.table()


def test_progress_gets_one_line_per_batch(year_flow):
    lines: list[str] = []
    year = km.simulate(year_flow, method="greedy", batch="monthly", progress=lines.append)
    assert len(lines) == len(year.batches) and lines[0].startswith(f"simulate {year.batches[0].date}:")


@pytest.mark.parametrize("kw, name", [({"batch": "yearly"}, "batch"), ({"method": "simplex"}, "method"),
                                      ({"cancel_rate": 1.5}, "cancel_rate"), ({"seed": -1}, "seed"),
                                      ({"executor": object()}, "executor"), ({"time_limit": 0}, "time_limit")])
def test_bad_parameters_are_named(kw, name):
    p = make(employees=[{"id": "e"}], missions=[{"id": "m", "date": "2027-03-02"}])
    with pytest.raises(km.InvalidParameterError, match=f"The '{name}' parameter of simulate"):
        km.simulate(p, **kw)


def test_an_executor_is_accepted_and_the_year_does_not_depend_on_it(year_flow):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        a = km.simulate(year_flow, method="flow", batch="monthly", executor=pool)
    b = km.simulate(year_flow, method="flow", batch="monthly")
    assert a.solution.assignments == b.solution.assignments


# ----------------------------------------------------------------------------- command line
def test_cli_simulate_end_to_end(tmp_path, capsys, year_flow):
    prob, out, table = tmp_path / "p.json", tmp_path / "s.json", tmp_path / "b.csv"
    km.dump(year_flow, str(prob))
    code = cli.main(["simulate", str(prob), "-o", str(out), "--batch", "monthly", "--method", "greedy",
                     "--batches", str(table), "--seed", "3"])
    assert code == 0
    captured = capsys.readouterr()
    year = km.simulate(km.load(str(prob)), batch="monthly", method="greedy", seed=3)
    assert captured.err.count("simulate 20") == len(year.batches)  # a progress line per batch on stderr
    assert captured.out.splitlines()[0].split()[:3] == ["date", "new", "hours"]
    assert len(captured.out.splitlines()) == len(year.batches) + 1
    sol = km.load(str(out))
    assert sol.assignments == year.solution.assignments and km.check(km.load(str(prob)), sol) == []
    with open(table, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["date"] for r in rows] == [b.date for b in year.batches]
    assert list(rows[0]) == list(sim.CSV_COLUMNS)
    assert [int(r["n_assignments"]) for r in rows] == [len(b.assignments) for b in year.batches]
    assert cli.main(["check", str(prob), str(out)]) == 0


def test_cli_simulate_to_stdout_puts_the_table_on_stderr(tmp_path, capsys, year_flow):
    prob = tmp_path / "p.json"
    km.dump(year_flow, str(prob))
    assert cli.main(["simulate", str(prob), "-o", "-", "--batch", "monthly", "--method", "flow", "-q"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["format"] == "koeeo-match-solution/1"
    assert "date" in captured.err.splitlines()[0]


@pytest.mark.parametrize("argv, text", [
    (["--batch", "yearly"], "argument --batch: invalid choice"),
    (["--method", "simplex"], "argument --method: invalid choice"),
    (["--cancel-rate", "2"], "--cancel-rate"),
    (["--seed", "-3"], "--seed"),
    (["--batches", "b.txt"], "argument --batches"),
    (["--policy", "nope"], "argument --policy"),
])
def test_cli_simulate_bad_options_exit_2_naming_the_option(tmp_path, capsys, argv, text):
    prob = tmp_path / "p.json"
    km.dump(make(employees=[{"id": "e"}], missions=[{"id": "m", "date": "2027-03-02"}]), str(prob))
    with pytest.raises(SystemExit) as ex:
        code = cli.main(["simulate", str(prob), "-o", str(tmp_path / "s.json"), *argv])
        raise SystemExit(code)
    assert ex.value.code == 2
    assert text in capsys.readouterr().err


@pytest.mark.parametrize("where", ["-o", "--batches"])
def test_cli_simulate_refuses_an_unwritable_output_before_the_replay(tmp_path, capsys, year_flow, monkeypatch, where):
    """A missing directory (or a directory as the file) is refused up front: no replay, nothing written."""
    prob, out, table = tmp_path / "p.json", tmp_path / "s.json", tmp_path / "b.csv"
    km.dump(year_flow, str(prob))
    monkeypatch.setattr(km, "simulate", lambda *a, **k: pytest.fail("the replay ran"))
    name = "s.json" if where == "-o" else "b.csv"
    (tmp_path / "dir" / name).mkdir(parents=True)
    for bad in (str(tmp_path / "none" / name), str(tmp_path / "dir" / name)):
        argv = ["simulate", str(prob), "-o", str(out), "--batches", str(table)]
        argv[argv.index(where) + 1] = bad
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert f"argument {'-o/--output' if where == '-o' else where}: {bad}: " in err, err
        assert ("does not exist" if "none" in bad else "is a directory") in err
        assert not out.exists() and not table.exists()


def test_cli_simulate_a_problem_without_days_exits_2(tmp_path, capsys):
    prob = tmp_path / "p.json"
    km.dump(make(employees=[{"id": "e"}], missions=[{"id": "m"}]), str(prob))
    assert cli.main(["simulate", str(prob), "-o", str(tmp_path / "s.json")]) == 2
    assert "no 'joined', 'posted'" in capsys.readouterr().err


@pytest.mark.parametrize("rules, methods", [("flow", ("flow", "fcfs", "greedy")), ("all", ("auto", "fcfs"))])
def test_a_generated_year_stays_below_the_hindsight_optimum(rules, methods):
    p = km.synth.city(employees=150, seed=7, rules=rules, year=True)
    hindsight = km.solve(p, method="auto")
    assert hindsight.status == km.Status.OPTIMAL
    for method in methods:
        year = km.simulate(p, batch="weekly", method=method)
        assert km.check(p, year.solution) == [], method
        assert_known_in_time(p, year)
        assert 0 < year.solution.objective <= hindsight.objective + 1e-9, method


def test_teammates_released_with_a_short_team_may_rejoin_it():
    from koeeo_match.batching import Replay as _Replay

    here = {"lat": 45.0, "lon": 5.0}
    p = km.Problem.from_records(
        employees=[{"id": "a", **here}, {"id": "b", **here}],
        missions=[{"id": "team", "association": "x", "seats": 2, "min_seats": 2, "date": "2027-06-01"}],
        associations=[{"id": "x", **here}])
    day = int(p.missions.date[0]) - 10
    r = _Replay(p, seed=0, cancel_rate=0.0, last=int(p.missions.date[0]))
    r.pin(np.array([0, 1]), np.array([0, 0]), day)
    r.cancel_day[0] = day + 1  # a cancels; b is released with the team
    ge, gm, released = r.cancel(day + 1)
    assert sorted(ge.tolist()) == [0, 1] and r.e.size == 0
    assert ge[released].tolist() == [1]  # b was released, a cancelled
    assert r.ce.tolist() == [0] and r.cm.tolist() == [0]  # only a is never offered the mission again


def _same(a, b, where="problem"):
    """Two problems (or tables, pair lists) equal field by field, arrays byte for byte with their dtypes."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b), where
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    else:
        assert a == b, where


@settings(max_examples=60, **SETTINGS)
@given(problems(), st.data())
def test_open_problem_is_the_reduced_problem_restricted_to_what_is_open(records, data):
    from koeeo_match import batching, pinned
    from koeeo_match.model import restrict

    problem = make(**records)
    assume((problem.missions.date != NO_DATE).any())
    problem = yearly(problem, seed=data.draw(st.integers(0, 3)))
    sol = km.solve(problem, method="cpsat")
    assume(sol.employee is not None and len(sol.employee) > 0)
    pick = np.array(data.draw(st.lists(st.booleans(), min_size=len(sol.employee), max_size=len(sol.employee))))
    e, m = np.asarray(sol.employee, np.int64)[pick], np.asarray(sol.mission, np.int64)[pick]
    forbid = (e[:1], m[:1]) if data.draw(st.booleans()) else None
    d = problem.missions.date[problem.missions.date != NO_DATE].astype(np.int64)
    day = data.draw(st.integers(int(d.min()) - 3, int(d.max())))
    cut = pinned.cut_days(problem.employees, e, problem.missions.date[m]) if data.draw(st.booleans()) else None
    op = batching.open_problem(problem, day, e, m, forbid, available=cut)
    # the reference: the whole reduced problem, then what is open in it (known, posted and ahead, seats left)
    red = pinned.reduce(problem, e, m, forbid)
    E, M = red.problem.employees, red.problem.missions
    known = (E.joined == NO_DATE) | (E.joined <= day)
    ahead = ((M.posted == NO_DATE) | (M.posted <= day)) & ((M.date == NO_DATE) | (M.date > day)) & (M.seats > 0)
    ke, km_ = np.flatnonzero(known), np.flatnonzero(ahead)
    _same(op.problem, restrict(red.problem, ke, km_))
    _same(op.employees, red.employees[ke], "employees")
    _same(op.missions, red.missions[km_], "missions")


def test_open_problem_leaves_out_a_forced_mission_without_a_seat():
    from koeeo_match import batching, pinned

    # e1 pinned on m (one seat): the forced pair (e2, m) keeps m in the reduced problem, with no seat
    p = make(employees=[{"id": "e1"}, {"id": "e2"}], missions=[{"id": "m", "date": "2027-03-09"},
                                                               {"id": "n", "date": "2027-03-10"}],
             forced=[{"employee": "e2", "mission": "m"}])
    e, m = np.array([0]), np.array([0])
    assert pinned.reduce(p, e, m).problem.missions.ids.tolist() == ["m", "n"]
    op = batching.open_problem(p, day("2027-03-01"), e, m)
    assert op.problem.missions.ids.tolist() == ["n"] and op.missions.tolist() == [1]
    assert op.problem.forced.employee.size == 0 and op.employees.tolist() == [1]  # e1 has no hours left


def test_ctrl_c_in_a_batch_ends_the_replay(monkeypatch):
    """A batch's solve answering ``interrupted`` (Ctrl-C caught inside it) ends the year: the
    replay raises KeyboardInterrupt instead of going on to the next batch."""
    import dataclasses
    import sys

    sim = sys.modules["koeeo_match.simulate"]  # the module (km.simulate is the function)
    solve = sim.solve

    def interrupted(*args, **kw):
        return dataclasses.replace(solve(*args, **kw), termination=km.Termination.INTERRUPTED)

    monkeypatch.setattr(sim, "solve", interrupted)
    p = km.synth.city(employees=60, seed=0, rules="flow", year=True)
    with pytest.raises(KeyboardInterrupt):
        km.simulate(p, batch="monthly", method="greedy")


def test_hold_undated_false_needs_commit_days():
    p = km.synth.city(employees=60, seed=0, year=True)
    with pytest.raises(km.InvalidParameterError, match="hold_undated"):
        km.simulate(p, method="greedy", hold_undated=False)
    km.simulate(p, method="greedy", commit_days=0, hold_undated=False)  # with deferred commitment: read


@pytest.mark.parametrize("kw", [dict(hours=0), dict(hours=-5), dict(hours=float("nan")), dict(scale=0),
                                dict(hours=1e30)])
def test_synth_france_refuses_sizes_it_cannot_draw(kw):
    with pytest.raises(ValueError, match="hours|scale|employees"):
        km.synth.france(seed=0, **kw)


@pytest.mark.parametrize("fill", [False, True])
def test_records_add_up_to_the_year_with_cancellations(fill):
    """Every pair the records make, less those they cancel, is the year's solution: with the online
    fill too, whose cancellations after the last record get a record of the last day."""
    p = km.synth.city(employees=300, seed=2, year=True)
    y = km.simulate(p, batch="weekly", method="greedy", cancel_rate=0.5, fill=fill, seed=3)
    standing: set[tuple[str, str]] = set()
    for b in y.batches:
        assert not set(b.assignments) & standing
        standing = (standing | set(b.assignments)) - set(b.cancelled)
    assert standing == set(y.solution.assignments)
    assert y.batches[-1].cumulative_hours == y.solution.metrics["assigned_hours"]


# ----------------------------------------------------------------------------- forced pairs over the year
def _forced_year() -> km.Problem:
    """``e`` joins before the forced mission ``dated`` is posted; an undated mission could take its hours."""
    return make(employees=[{"id": "e", "hours": 7, "joined": "2027-01-01"}],
                missions=[{"id": "undated", "hours": 7},
                          {"id": "dated", "hours": 7, "date": "2027-03-12", "posted": "2027-02-03"}],
                forced=[{"employee": "e", "mission": "dated"}])


@pytest.mark.parametrize("batch", ["daily", "weekly", "monthly"])
@pytest.mark.parametrize("method", ["auto", "greedy", "fcfs"])
def test_a_forced_pair_holds_its_hours_until_its_mission_is_posted(batch, method):
    """The batches before 2027-02-03 used to give e's 7 hours to 'undated': the year then broke the
    forced rule (km.check)."""
    p = _forced_year()
    year = km.simulate(p, batch=batch, method=method)
    assert year.solution.assignments == [("e", "dated")] and km.check(p, year.solution) == []
    assert_nothing_moves(year)
    listed = [b for b in year.batches if ("e", "dated") in b.assignments]
    assert len(listed) == 1
    if method != "fcfs":  # fcfs records group days under their last one
        assert listed[0].date == "2027-02-03"
        assert listed[0].kind == ("batch" if batch == "daily" else "forced")


def test_a_forced_pair_is_never_cancelled_nor_called_off_with_its_team():
    p = make(employees=[{"id": f"e{i}"} for i in range(3)],
             missions=[{"id": "team", "seats": 3, "min_seats": 2, "date": "2027-03-20", "posted": "2027-03-01"}],
             forced=[{"employee": "e0", "mission": "team"}])
    for seed in range(5):
        year = km.simulate(p, batch="weekly", method="cpsat", cancel_rate=1.0, seed=seed)
        assert ("e0", "team") in year.solution.assignments and km.check(p, year.solution) == []
        assert all(("e0", "team") not in b.cancelled for b in year.batches)


def test_forced_pairs_that_break_a_rule_alone_are_refused_up_front():
    p = make(employees=[{"id": "e", "hours": 3.5}], missions=[{"id": "m", "hours": 7, "date": "2027-03-20"}],
             forced=[{"employee": "e", "mission": "m"}])
    with pytest.raises(km.InvalidProblemError, match=r"forced 'e', field 'employee_hours'.*no year holds them"):
        km.simulate(p)


def test_a_cancellation_after_the_last_batch_happens():
    """Monthly batches end on 1 March: a cancellation drawn for 2-19 March used to be lost, the pair
    kept in the year's solution with no record of it."""
    p = make(employees=[{"id": "e"}], missions=[{"id": "m", "date": "2027-03-20", "posted": "2027-01-01"}])
    for seed in range(20):
        year = km.simulate(p, batch="monthly", method="greedy", cancel_rate=1.0, seed=seed)
        assert year.solution.assignments == [] and km.check(p, year.solution) == []
        assert_nothing_moves(year)
        gone = [b for b in year.batches if b.cancelled]
        assert len(gone) == 1 and gone[0].date < "2027-03-20"
        assert gone[0].kind == ("cancelled" if gone[0].date > "2027-03-01" else "batch")


def test_a_problem_without_days_is_a_parameter_error():
    p = make(employees=[{"id": "e"}], missions=[{"id": "m"}])
    with pytest.raises(km.InvalidParameterError, match="'problem' parameter of simulate needs days"):
        km.simulate(p)


def _forced_team(posted: str) -> km.Problem:
    return make(employees=[{"id": f"e{i}"} for i in range(4)],
                missions=[{"id": "team", "seats": 3, "min_seats": 3, "date": "2027-04-20", "posted": posted},
                          {"id": "solo", "date": "2027-03-25", "posted": "2027-03-01"}],
                forced=[{"employee": "e0", "mission": "team"}])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_forced_pair_survives_cancellations_elsewhere_before_its_team_is_posted(seed):
    """A cancellation of e0's 'solo' participation used to release e0's forced team pair, short since
    its start (the team posted later), and the year then lost the forced pair (km.check)."""
    p = _forced_team("2027-03-20")
    year = km.simulate(p, batch="weekly", method="auto", cancel_rate=1.0, seed=seed)
    assert ("e0", "team") in year.solution.assignments and km.check(p, year.solution) == []
    assert all(("e0", "team") not in b.cancelled for b in year.batches)
    assert_nothing_moves(year)


@pytest.mark.parametrize("method", ["greedy", "fcfs", "auto", "cpsat"])
def test_a_forced_pair_on_a_team_is_forced_by_the_batch_that_staffs_it(method):
    """Pinned from the first day it would be a team started below its minimum, which greedy and fcfs
    refuse (a regression of the first fix): it is forced by a batch instead, with its team."""
    p = _forced_team("2027-03-01")
    year = km.simulate(p, batch="weekly", method=method)
    assert ("e0", "team") in year.solution.assignments and km.check(p, year.solution) == []


def test_the_text_table_shows_the_kind_of_records_that_are_not_batches():
    p = _forced_year()
    table = km.simulate(p, batch="monthly", method="greedy").format_table()
    assert " kind " in table.splitlines()[0] and "forced" in table
    assert "kind" not in km.simulate(p, batch="daily", method="greedy").format_table().splitlines()[0]


@pytest.mark.parametrize("batch, method", [("weekly", "greedy"), ("monthly", "fcfs")])
def test_a_span_of_millennia_is_refused_up_front(batch, method):
    """Days in year 1 and year 9999 beside 2027: a weekly replay made 521,723 empty batches (167 s),
    a daily one never ended.  Refused at once, with the span and the count."""
    p = make(employees=[{"id": "e"}],
             missions=[{"id": "a", "date": "0001-01-02"}, {"id": "b", "date": "2027-03-01"},
                       {"id": "c", "date": "9999-12-31"}])
    with pytest.raises(km.InvalidParameterError, match=r"spans 0001-01-01 to 9999-12-31: [\d,]+ .* than the 100,000"):
        km.simulate(p, batch=batch, method=method)


def test_records_tell_released_teammates_from_cancellations():
    """``cancelled`` mixed a participant who cancelled with teammates released when their team fell short
    (only the latter may rejoin); a helper's audit could not check the rule from the records.  ``released``
    names the latter: each has a teammate on the same mission that cancelled in the same record, and a pair
    that cancelled itself is never made again."""
    p = km.synth.region("Bretagne", employees=600, seed=3, year=True)
    assert (p.missions.min_seats > 1).any()
    year = km.simulate(p, batch="weekly", method="greedy", cancel_rate=0.5, seed=1)
    last_made: dict[tuple[str, str], int] = {}
    cancelled_at: dict[tuple[str, str], int] = {}
    for i, b in enumerate(year.batches):
        for pair in b.assignments:
            last_made[pair] = i
        assert set(b.released) <= set(b.cancelled)
        own = set(b.cancelled) - set(b.released)
        for e, m in b.released:
            assert any(mm == m and ee != e for ee, mm in own), (b.date, e, m)
        cancelled_at.update({pair: i for pair in own})
    assert any(b.released for b in year.batches)  # the instance exercises the rule
    for pair, i in cancelled_at.items():  # a pair that cancelled itself is never made again
        assert last_made[pair] <= i, pair
    frame = year.table()
    assert frame["n_released"].tolist() == [len(b.released) for b in year.batches]
    # the new field comes last: a record built by position as before keeps its status and kind
    from koeeo_match.simulate import Batch

    old = Batch("2027-01-04", (), 0.0, 0.1, 0, 1, 0.0, (), "optimal", 0, "batch")
    assert (old.status, old.kind, old.released) == ("optimal", "batch", ())


def test_a_batch_method_that_meets_a_rule_it_cannot_honour_names_the_batch():
    """``stable`` refuses a max_per_employer that binds, which only a batch meets: the refusal
    (raised after the batches before it ran) now names that batch's date (an audit's finding)."""
    p = km.synth.city(employees=3000, seed=0, rules="flow", year=True)
    with pytest.raises(km.UnsupportedError, match=r"^the batch of \d{4}-\d\d-\d\d: method='stable' cannot honour"):
        km.simulate(p, method="stable")
