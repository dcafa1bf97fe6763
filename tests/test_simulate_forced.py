"""Forced pairs over a simulated year (``km.simulate``; docs/year.md, "Forced pairs").

A year's solution with status ``feasible`` holds every forced pair (``km.check == []``, DESIGN.md §8).
A forced pair on a team that no year at the batch frequency can place is refused up front, naming it
(no solution at all holds it, or no step before the mission's date knows enough of its team); one that
a year still fails to place at run time makes the year's status ``unknown``, with no assignments.  A
forced pair on a team holds its employee until a step staffs the team, and a step that cannot staff it
yet leaves it to a later step and allocates the rest.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import koeeo_match as km

from conftest import make
from test_properties import SETTINGS
from test_simulate import assert_known_in_time, assert_nothing_moves

METHODS = ["auto", "cpsat", "greedy"]


def _late_teammate() -> km.Problem:
    """e1's forced team needs a second volunteer; the only other one, e2, joins on 5 March."""
    return make(employees=[{"id": "e1", "joined": "2027-02-20"}, {"id": "e2", "joined": "2027-03-05"}],
                missions=[{"id": "team", "seats": 2, "min_seats": 2, "date": "2027-03-20", "posted": "2027-03-01"}],
                forced=[{"employee": "e1", "mission": "team"}])


@pytest.mark.parametrize("method", METHODS)
def test_a_forced_team_no_batch_can_staff_is_refused_up_front(method):
    """Monthly batches (20 February, 1 March) never know e2 before the 20 March team: the year used to
    drop the forced pair and still say 'feasible' (km.check: a forced pair is not assigned)."""
    p = _late_teammate()
    best = km.solve(p)
    assert best.status == km.Status.OPTIMAL and ("e1", "team") in best.assignments
    with pytest.raises(km.InvalidProblemError) as err:
        km.simulate(p, batch="monthly", method=method)
    (issue,) = err.value.issues
    assert (issue.kind, issue.id, issue.field) == ("forced", "e1/team", "team_minimum")
    assert "only 1 of the 2 employees who can join it are known by 2027-03-01" in issue.message
    assert "no monthly year holds the forced pair" in issue.message
    # weekly batches (6 March) and the online fill (5 March) know e2 in time: the year holds the pair
    for year in (km.simulate(p, batch="weekly", method=method), km.simulate(p, batch="monthly", method=method,
                                                                            fill=True)):
        assert year.solution.status == km.Status.FEASIBLE and km.check(p, year.solution) == []
        assert ("e1", "team") in year.solution.assignments


@pytest.mark.parametrize("method", METHODS + ["fcfs"])
@pytest.mark.parametrize("batch", ["daily", "monthly"])
def test_a_forced_team_no_solution_holds_is_refused_up_front(method, batch):
    """Nobody but e1 can join the team: km.solve says infeasible; the year used to say 'feasible'."""
    p = make(employees=[{"id": "e1"}],
             missions=[{"id": "team", "seats": 2, "min_seats": 2, "date": "2027-03-01"}],
             forced=[{"employee": "e1", "mission": "team"}])
    assert km.solve(p).status == km.Status.INFEASIBLE
    with pytest.raises(km.InvalidProblemError, match=r"forced 'e1/team', field 'team_minimum'.*1 employee\(s\) can "
                                                     r"join it: no solution holds the forced pair"):
        km.simulate(p, batch=batch, method=method)


def test_a_forced_team_known_after_the_last_batch_before_it_is_refused():
    p = make(employees=[{"id": "e1", "joined": "2027-03-10"}, {"id": "e2"}],
             missions=[{"id": "team", "seats": 2, "min_seats": 2, "date": "2027-03-12", "posted": "2027-03-01"}],
             forced=[{"employee": "e1", "mission": "team"}])
    with pytest.raises(km.InvalidProblemError, match=r"field 'known_in_time'.*known from 2027-03-10, after "
                                                     r"2027-03-08, the last weekly batch"):
        km.simulate(p, batch="weekly")
    year = km.simulate(p, batch="weekly", fill=True)
    assert year.solution.assignments == [("e1", "team"), ("e2", "team")] and km.check(p, year.solution) == []


@pytest.mark.parametrize("method", ["auto", "greedy", "fcfs", "cpsat"])
def test_a_forced_team_pair_holds_its_employee_until_its_team_is_posted(method):
    """The batch of 1 March gave e0 (7 h) 'solo', posted before the team: the team then had no room
    for e0 and the year lost the forced pair (auto, greedy), still saying 'feasible'."""
    p = make(employees=[{"id": f"e{i}"} for i in range(4)],
             missions=[{"id": "team", "seats": 3, "min_seats": 3, "date": "2027-04-20", "posted": "2027-03-20"},
                       {"id": "solo", "date": "2027-03-25", "posted": "2027-03-01"}],
             forced=[{"employee": "e0", "mission": "team"}])
    year = km.simulate(p, batch="weekly", method=method)
    assert year.solution.status == km.Status.FEASIBLE and km.check(p, year.solution) == []
    assert ("e0", "team") in year.solution.assignments and len(year.solution.assignments) == 4
    assert_nothing_moves(year)
    assert_known_in_time(p, year)


def _team_and_a_short_notice_mission() -> km.Problem:
    """e1's forced team (law) can be staffed once e3 joins (5 March); 'soon' (3 March) only before.
    e2, who can join the team, is forced elsewhere on its date."""
    law = {"law": 1}
    return make(employees=[{"id": "e1", "skills": law}, {"id": "e2", "skills": law},
                           {"id": "e3", "skills": law, "joined": "2027-03-05"}, {"id": "e4", "skills": {}}],
                missions=[{"id": "team", "seats": 2, "min_seats": 2, "date": "2027-03-20", "posted": "2027-03-01",
                           "skills": law},
                          {"id": "busy", "date": "2027-03-20", "posted": "2027-03-01"},
                          {"id": "soon", "date": "2027-03-03", "posted": "2027-03-01"}],
                forced=[{"employee": "e1", "mission": "team"}, {"employee": "e2", "mission": "busy"}])


@pytest.mark.parametrize("method", ["auto", "cpsat", "greedy", "fcfs"])
def test_a_step_that_cannot_staff_a_forced_team_yet_allocates_the_rest(method):
    """Before 5 March e1's team cannot be staffed (e2 is busy that day): the batches of 1 and 2 March
    used to fail whole ('infeasible', nothing pinned), and 'soon' was lost.  They now leave the team
    to a later batch, its employee held, and give 'soon' to e4."""
    p = _team_and_a_short_notice_mission()
    year = km.simulate(p, batch="daily", method=method)
    assert year.solution.status == km.Status.FEASIBLE and km.check(p, year.solution) == []
    assert set(year.solution.assignments) == {("e1", "team"), ("e3", "team"), ("e2", "busy"), ("e4", "soon")}
    assert all(b.status in ("", "optimal", "feasible") for b in year.batches if b.date < "2027-03-05")
    assert_nothing_moves(year)


@pytest.mark.parametrize("method", ["auto", "cpsat", "greedy", "fcfs"])
def test_a_forced_pair_the_year_cannot_place_makes_it_unknown(method):
    """X and Y, on one day, each need two volunteers; e1 is forced to X, e2 to Y, and only e3 is left:
    no solution holds both (km.solve: infeasible), which no count of candidates shows up front.  The
    year used to say 'feasible' without them."""
    p = make(employees=[{"id": "e1"}, {"id": "e2"}, {"id": "e3"}],
             missions=[{"id": "X", "seats": 2, "min_seats": 2, "date": "2027-03-20", "posted": "2027-03-01"},
                       {"id": "Y", "seats": 2, "min_seats": 2, "date": "2027-03-20", "posted": "2027-03-01"},
                       {"id": "solo", "date": "2027-03-25", "posted": "2027-03-01"}],
             forced=[{"employee": "e1", "mission": "X"}, {"employee": "e2", "mission": "Y"}])
    assert km.solve(p).status == km.Status.INFEASIBLE
    year = km.simulate(p, batch="weekly", method=method)
    sol = year.solution
    assert sol.status == km.Status.UNKNOWN and sol.assignments == [] and sol.objective == 0
    assert "could not place 2 forced pair(s), ('e1', 'X'): its team could not be staffed by" in sol.message
    assert {v.rule for v in km.check(p, sol)} == {"forced"}  # and no recorded_status: no assignments
    assert any(("e3", "solo") in b.assignments for b in year.batches)  # what the batches did stays on record


DAYS = ["2027-03-01", "2027-03-04", "2027-03-08", "2027-03-12", "2027-03-16", "2027-03-20", "2027-03-24"]


@st.composite
def team_years(draw):
    """A month: a few employees joining, missions posted, teams, and up to two forced pairs."""
    n_e, n_m = draw(st.integers(2, 5)), draw(st.integers(1, 4))
    employees = []
    for i in range(n_e):
        r = {"id": f"e{i}", "hours": draw(st.sampled_from([7.0, 14.0]))}
        j = draw(st.sampled_from([None, *DAYS[:4]]))
        if j:
            r["joined"] = j
        employees.append(r)
    missions = []
    for k in range(n_m):
        seats = draw(st.integers(1, 3))
        r = {"id": f"m{k}", "seats": seats, "date": draw(st.sampled_from(DAYS[2:]))}
        if seats > 1 and draw(st.booleans()):
            r["min_seats"] = draw(st.integers(2, seats))
        posted = draw(st.sampled_from([None, *[d for d in DAYS if d < r["date"]]]))
        if posted:
            r["posted"] = posted
        missions.append(r)
    pairs = draw(st.lists(st.tuples(st.integers(0, n_e - 1), st.integers(0, n_m - 1)), max_size=2,
                          unique_by=lambda t: t[0]))
    return dict(employees=employees, missions=missions,
                forced=[{"employee": f"e{e}", "mission": f"m{m}"} for e, m in pairs])


@settings(max_examples=150, **SETTINGS)
@given(team_years(), st.sampled_from(["daily", "weekly", "monthly"]),
       st.sampled_from(["auto", "cpsat", "greedy", "fcfs"]), st.booleans(), st.sampled_from([None, 0]))
def test_a_feasible_year_holds_every_forced_pair(records, batch, method, fill, commit_days):
    """Whatever the forced pairs: refused up front (and 'no solution holds' only when none does), or a
    year whose status says what its pairs are: 'feasible' passes km.check, else 'unknown', empty."""
    p = make(**records)
    online = method == "fcfs"
    try:
        year = km.simulate(p, batch=batch, method=method, fill=fill and not online,
                           commit_days=None if online else commit_days)
    except km.InvalidProblemError as err:
        assert all(i.kind == "forced" for i in err.issues)
        if any("no solution holds" in i.message for i in err.issues):
            assert km.solve(p, method="cpsat").status == km.Status.INFEASIBLE
        return
    if year.solution.status == km.Status.FEASIBLE:
        assert km.check(p, year.solution) == []
        if not online:  # (fcfs records group days under their last one)
            assert_known_in_time(p, year)
    else:
        assert year.solution.status == km.Status.UNKNOWN and year.solution.assignments == []
        assert "could not place" in year.solution.message
        assert {v.rule for v in km.check(p, year.solution)} == {"forced"}
