"""What-if helpers refuse values beyond what a file may hold, and anything that is not a problem."""

from __future__ import annotations

import pytest

import koeeo_match as km


@pytest.fixture(scope="module")
def city() -> km.Problem:
    return km.synth.city(employees=30, seed=0)


@pytest.mark.parametrize(("call", "message"), [
    # used to wrap through int32: 2**32 + 1 became a cap of 1, 10**12 a negative cap
    (lambda p: km.whatif.employer_daily_cap(p, 2**32 + 1), "'cap' parameter of employer_daily_cap must be an "
                                                            "integer in the range [0, 2147483647]. Got 4294967297"),
    (lambda p: km.whatif.employer_daily_cap(p, 10**12), "Got 1000000000000 instead"),
    # used to be accepted, then the solve called the problem infeasible after a cast warning
    (lambda p: km.whatif.entitlement(p, 1e19), "'hours' parameter of entitlement must be a number in the range "
                                               "[0, 1000000] hours"),
    (lambda p: km.whatif.employer_hours_budget(p, 1e300), "'hours' parameter of employer_hours_budget must be a "
                                                          "number in the range [0, 1000000000] hours"),
    (lambda p: km.whatif.entitlement(None, 7), "'problem' parameter of entitlement must be a Problem. Got None"),
    (lambda p: km.whatif.travel_cap("p.json", 7), "'problem' parameter of travel_cap must be a Problem"),
    (lambda p: km.whatif.employer_daily_cap(p, 2, employers=5),
     "'employers' parameter of employer_daily_cap must be an employer id or a sequence of them. Got 5"),
    (lambda p: km.whatif.employer_hours_budget(p, 2, employers=[None]), "'employers' parameter"),
])
def test_out_of_range_or_wrong_type_is_a_parameter_error(city, call, message):
    with pytest.raises(km.InvalidParameterError) as err:
        call(city)
    assert message in str(err.value)


def test_largest_accepted_values_keep_the_rules_as_they_are(city):
    # the top of each range is accepted; a cap never loosens an existing one
    q = km.whatif.employer_daily_cap(city, 2**31 - 1)
    assert (q.employers.daily_cap == city.employers.daily_cap).all()
    r = km.whatif.entitlement(city, 1e6)
    assert set(r.employees.hours.tolist()) == {1e6}
    assert km.check(r, km.solve(r, time_limit=20)) == []


@pytest.mark.parametrize("fn, hours", [("entitlement", 0.1234567), ("employer_hours_budget", 1 / 3 + 1e-6)])
def test_hours_no_unit_makes_whole_are_refused_naming_the_parameter(fn, hours):
    """As the readers refuse them in files: every solve of the result used to fail with a
    SolverError naming nothing."""
    p = km.synth.city(employees=60, seed=0)
    with pytest.raises(km.InvalidParameterError, match=f"'hours' parameter of {fn} must be in whole millionths"):
        getattr(km.whatif, fn)(p, hours)
    assert getattr(km.whatif, fn)(p, 7 / 3) is not None  # thirds of an hour are exact


def test_hours_exact_alone_but_with_no_common_unit_are_refused():
    """A millionth of an hour is exact alone, but not beside a mission of a third of an hour."""
    p = km.Problem.from_records(associations=[{"id": "a", "lat": 45, "lon": 5}],
                                employees=[{"id": "e", "lat": 45, "lon": 5}],
                                missions=[{"id": "m", "association": "a", "hours": 1 / 3}])
    with pytest.raises(km.InvalidParameterError, match="no common exact unit .* mission 'm'"):
        km.whatif.entitlement(p, 0.000001)
    assert km.whatif.entitlement(p, 0.5).employees.hours[0] == 0.5
