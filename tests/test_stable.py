"""method="stable" (deferred acceptance) and km.blocking_pairs.

(a) the stable assignment passes km.check; (b) it has no blocking pair, for both proposing
sides; (c) a brute-force stability check written here (a loop over every pair, on this file's
own preference lists and conftest's own eligibility) agrees with blocking_pairs, on stable
assignments and on other feasible ones; (d) employee-proposing gives every employee its best
stable partner, mission-proposing every mission (one-to-one, all stable matchings enumerated);
(e) refusals name each rule deferred acceptance cannot honour; (f) explicit preferences are
validated; (g) determinism; and hand-checked examples.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match.cli import main
from koeeo_match.model import NO_DATE

from conftest import eligible_pairs, make, pair_value

SETTINGS = dict(deadline=None, derandomize=True, max_examples=60,
                suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
DAYS = ["2027-03-01", "2027-03-02"]
SIDES = ["employees", "associations"]


# ----------------------------------------------------------------------------- instances
@st.composite
def instances(draw, one_to_one: bool = False, explicit: bool | None = None):
    """(problem, preferences or None): rules deferred acceptance honours, random preferences."""
    n_e, n_m = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    skills = ["law", "it"]
    employees = []
    for i in range(n_e):
        # 0.35 degrees is 39 km: a 7 h mission scores below 0 under min_travel (unacceptable)
        r = {"id": f"e{i}", "hours": 7.0 if one_to_one else draw(st.sampled_from([7.0, 14.0, 21.0])),
             "lat": 45.0 + draw(st.sampled_from([0.0, 0.05, 0.1, 0.35])), "max_km": 60,
             "skills": draw(st.dictionaries(st.sampled_from(skills), st.integers(1, 3), max_size=2))}
        if draw(st.sampled_from([False, False, True])):
            r["available"] = [draw(st.sampled_from(DAYS))]
        employees.append(r)
    missions = []
    for j in range(n_m):
        r = {"id": f"m{j}", "seats": 1 if one_to_one else draw(st.integers(1, 3)),
             "hours": draw(st.sampled_from([7.0, 3.5])) if one_to_one else 7.0,
             "skills": draw(st.sampled_from([{}, {}, {"law": 1}, {"it": 2}]))}
        if draw(st.booleans()):
            r["date"] = draw(st.sampled_from(DAYS))
        missions.append(r)
    p = make(employees, missions)
    if explicit is None:
        explicit = draw(st.booleans())
    if not explicit:
        return p, None
    e_ids, m_ids = p.employees.ids.tolist(), p.missions.ids.tolist()
    prefs = {}
    if draw(st.sampled_from([True, True, False])):  # a side may be left to the policy
        prefs["employees"] = {e: draw(st.permutations(m_ids)).copy()[: draw(st.integers(0, n_m))]
                              for e in e_ids if draw(st.sampled_from([True, True, True, False]))}
    if draw(st.sampled_from([True, True, False])):
        prefs["missions"] = {m: draw(st.permutations(e_ids)).copy()[: draw(st.integers(0, n_e))]
                             for m in m_ids if draw(st.sampled_from([True, True, True, False]))}
    return p, prefs


# ----------------------------------------------------------------------------- brute force
def ranking(p, policy, prefs):
    """Per employee and per mission: {partner index: rank}, only acceptable partners.

    Written independently of koeeo_match.stability: eligibility from conftest, scores from
    conftest.pair_value, ties by index; an agent listed in ``prefs`` accepts its list only, and
    a pair of score <= 0 is acceptable to no one (docs/policies.md: never assigned).
    """
    policy = km.Policy.parse(policy) if isinstance(policy, str) else policy
    arcs = [(e, m) for e, m in eligible_pairs(p) if pair_value(p, policy, e, m) > (0.0, 0.0)]
    ei = {k: i for i, k in enumerate(p.employees.ids.tolist())}
    mi = {k: i for i, k in enumerate(p.missions.ids.tolist())}
    emp, mis = {}, {}
    for e in range(p.n_employees):
        cands = [m for (x, m) in arcs if x == e]
        cands.sort(key=lambda m: (tuple(-v for v in pair_value(p, policy, e, m)), m))
        emp[e] = {m: r for r, m in enumerate(cands)}
    for m in range(p.n_missions):
        cands = [e for (e, y) in arcs if y == m]
        cands.sort(key=lambda e: (tuple(-v for v in pair_value(p, policy, e, m)), e))
        mis[m] = {e: r for r, e in enumerate(cands)}
    prefs = prefs or {}
    for eid, lst in prefs.get("employees", {}).items():
        e = ei[eid]
        emp[e] = {mi[x]: r for r, x in enumerate(lst) if (e, mi[x]) in arcs}
    for mid, lst in prefs.get("missions", {}).items():
        m = mi[mid]
        mis[m] = {ei[x]: r for r, x in enumerate(lst) if (ei[x], m) in arcs}
    return emp, mis


def brute_blocking(p, pairs, policy="max_hours", prefs=None):
    """Every blocking pair, by a loop over all employees x missions."""
    emp, mis = ranking(p, policy, prefs)
    ei = {k: i for i, k in enumerate(p.employees.ids.tolist())}
    mi = {k: i for i, k in enumerate(p.missions.ids.tolist())}
    held = {(ei[a], mi[b]) for a, b in pairs}
    E, M = p.employees, p.missions
    out = []
    for e in range(p.n_employees):
        mine = [m for (x, m) in held if x == e]
        left = float(E.hours[e]) - sum(float(M.hours[m]) for m in mine)
        for m in range(p.n_missions):
            if (e, m) in held or m not in emp[e] or e not in mis[m]:
                continue
            h, d = float(M.hours[m]), int(M.date[m])
            same_day = [x for x in mine if d != NO_DATE and int(M.date[x]) == d]
            e_wants = h <= left + 1e-9 and not same_day
            for x in mine:  # give up x for m?
                worse = emp[e].get(x, 10**9) > emp[e][m]
                if worse and h <= left + float(M.hours[x]) + 1e-9 and set(same_day) <= {x}:
                    e_wants = True
            others = [y for (y, z) in held if z == m]
            m_wants = len(others) < int(M.seats[m]) or any(mis[m].get(y, 10**9) > mis[m][e] for y in others)
            if e_wants and m_wants:
                out.append((E.ids[e], M.ids[m]))
    return sorted(out)


def stable_solve(p, prefs, side, policy="max_hours"):
    return km.solve(p, method="stable", policy=policy, proposing=side, preferences=prefs)


# ----------------------------------------------------------------------------- (a) (b) (c)
@settings(**SETTINGS)
@given(instances(), st.sampled_from(SIDES), st.sampled_from(["max_hours", "balanced", "min_travel"]))
def test_stable_is_feasible_and_has_no_blocking_pair(inst, side, policy):
    p, prefs = inst
    s = stable_solve(p, prefs, side, policy)
    assert km.check(p, s) == []
    assert s.status == km.Status.FEASIBLE and s.bound is None and s.method == "stable"
    assert km.blocking_pairs(p, s, policy, prefs) == []
    assert brute_blocking(p, s.assignments, policy, prefs) == []


@settings(**SETTINGS)
@given(instances(), st.sampled_from(["greedy", "fcfs", "auto"]), st.integers(0, 3))
def test_blocking_pairs_agrees_with_brute_force_on_other_solutions(inst, method, seed):
    p, prefs = inst
    s = km.solve(p, method=method, seed=seed, policy="balanced")
    pairs = s.assignments
    assert sorted(km.blocking_pairs(p, s, "balanced", prefs)) == brute_blocking(p, pairs, "balanced", prefs)
    # a subset of a feasible solution is feasible: drop every other pair
    sub = pairs[::2]
    assert sorted(km.blocking_pairs(p, sub, "balanced", prefs)) == brute_blocking(p, sub, "balanced", prefs)


def test_blocking_pairs_with_mixed_durations_matches_brute_force():
    # e holds the 3.5 h m2 (its second choice) and has 3.5 h left: m1 (7 h, first choice)
    # blocks by replacing m2; m3 (3.5 h, last choice) fits in the hours left and blocks too.
    p = make([{"id": "e", "hours": 7}],
             [{"id": "m1", "hours": 7}, {"id": "m2", "hours": 3.5}, {"id": "m3", "hours": 3.5}])
    prefs = {"employees": {"e": ["m1", "m2", "m3"]}}
    got = km.blocking_pairs(p, [("e", "m2")], preferences=prefs)
    assert got == brute_blocking(p, [("e", "m2")], prefs=prefs) == [("e", "m1"), ("e", "m3")]
    # holding m1 (7 h, its best): nothing fits and nothing is better
    assert km.blocking_pairs(p, [("e", "m1")], preferences=prefs) == []
    # and stable refuses: choices over mixed durations are knapsacks, not matroids
    with pytest.raises(km.UnsupportedError, match="different durations"):
        km.solve(p, method="stable")


# ----------------------------------------------------------------------------- (d) optimality for the proposers
def all_stable_matchings(p, prefs, policy="max_hours"):
    """Every one-to-one matching (over acceptable eligible pairs) with no blocking pair."""
    emp, mis = ranking(p, policy, prefs)
    arcs = [(e, m) for e in emp for m in emp[e] if e in mis[m]]
    out = []
    for r in range(min(p.n_employees, p.n_missions) + 1):
        for subset in itertools.combinations(arcs, r):
            es, ms = [e for e, _ in subset], [m for _, m in subset]
            if len(set(es)) < r or len(set(ms)) < r:
                continue
            pairs = [(p.employees.ids[e], p.missions.ids[m]) for e, m in subset]
            if km.check(p, pairs) == [] and brute_blocking(p, pairs, policy, prefs) == []:
                out.append(dict(subset))
    return out, emp, mis


@settings(**SETTINGS)
@given(instances(one_to_one=True, explicit=True))
def test_each_side_gets_its_best_stable_partner(inst):
    p, prefs = inst
    p = make([{"id": e, "hours": 7} for e in p.employees.ids.tolist()],
             [{"id": m} for m in p.missions.ids.tolist()])  # one-to-one, every pair eligible
    stable, emp, mis = all_stable_matchings(p, prefs)
    assert stable, "a stable matching always exists"
    ei = {k: i for i, k in enumerate(p.employees.ids.tolist())}
    mi = {k: i for i, k in enumerate(p.missions.ids.tolist())}
    by_emp = {ei[a]: mi[b] for a, b in stable_solve(p, prefs, "employees").assignments}
    by_mis = {mi[b]: ei[a] for a, b in stable_solve(p, prefs, "associations").assignments}
    assert by_emp in stable and {e: m for m, e in by_mis.items()} in stable
    for e in range(p.n_employees):
        partners = {s[e] for s in stable if e in s}
        best = min(partners, key=emp[e].__getitem__) if partners else None
        assert by_emp.get(e) == best
    for m in range(p.n_missions):
        partners = {e for s in stable for e, x in s.items() if x == m}
        best = min(partners, key=mis[m].__getitem__) if partners else None
        assert by_mis.get(m) == best
    # rural hospitals: every stable matching matches the same agents
    assert len({frozenset(s) for s in stable}) == 1 and len({frozenset(s.values()) for s in stable}) == 1


# ----------------------------------------------------------------------------- hand-checked
def test_hand_checked_two_by_two():
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    prefs = {"employees": {"e1": ["m1", "m2"], "e2": ["m2", "m1"]},
             "missions": {"m1": ["e2", "e1"], "m2": ["e1", "e2"]}}
    # both sides get their first choice when they propose; both matchings are stable
    assert stable_solve(p, prefs, "employees").assignments == [("e1", "m1"), ("e2", "m2")]
    assert stable_solve(p, prefs, "associations").assignments == [("e1", "m2"), ("e2", "m1")]
    assert km.blocking_pairs(p, [("e1", "m1")], preferences=prefs) == [("e2", "m1"), ("e2", "m2")]
    assert km.blocking_pairs(p, [], preferences=prefs) == [("e1", "m1"), ("e1", "m2"), ("e2", "m1"), ("e2", "m2")]


def test_hand_checked_many_to_one_and_multi_mission():
    # m1 has 2 seats and ranks e3 > e1 > e2; every employee prefers m1.  e3 (14 h) also takes
    # m2 on another date but not m3, which falls on m1's date.
    p = make([{"id": "e1"}, {"id": "e2"}, {"id": "e3", "hours": 14}],
             [{"id": "m1", "seats": 2, "date": "2027-03-01"}, {"id": "m2", "date": "2027-03-02"},
              {"id": "m3", "date": "2027-03-01"}])
    prefs = {"employees": {"e1": ["m1", "m2"], "e2": ["m1", "m3", "m2"], "e3": ["m1", "m3", "m2"]},
             "missions": {"m1": ["e3", "e1", "e2"], "m2": ["e2", "e3", "e1"], "m3": ["e3", "e2"]}}
    for side in SIDES:
        s = stable_solve(p, prefs, side)
        assert km.check(p, s) == []
        assert km.blocking_pairs(p, s, preferences=prefs) == []
    # employee-proposing: e1, e2 take m1; e3 evicts e2 from m1, skips m3 (same date as m1)
    # and takes m2; e2 falls to m3.  Mission-proposing: m1 gets e3, e1; m2 gets e2, who leaves
    # it for m3 (which e3 refused: m1 that day); m2 then gets e3.  The same assignment.
    want = [("e1", "m1"), ("e2", "m3"), ("e3", "m1"), ("e3", "m2")]
    assert stable_solve(p, prefs, "employees").assignments == want
    assert stable_solve(p, prefs, "associations").assignments == want
    # e2 on m2 instead of m3 is blocked by (e2, m3): both prefer it
    bad = [("e1", "m1"), ("e2", "m2"), ("e3", "m1")]
    assert km.blocking_pairs(p, bad, preferences=prefs) == [("e2", "m3")]


def test_policy_preferences_rank_by_score():
    # max_hours: every pair is worth 7 h, then skill fit ranks: e1 fits m1 exactly, e2 is over-qualified
    p = make([{"id": "e1", "skills": {"law": 1}}, {"id": "e2", "skills": {"law": 3}}],
             [{"id": "m1", "skills": {"law": 1}}])
    assert km.solve(p, method="stable").assignments == [("e1", "m1")]
    assert km.blocking_pairs(p, [("e2", "m1")]) == [("e1", "m1")]


def test_pairs_of_score_at_most_zero_are_unacceptable():
    # 39 km away: under min_travel the 7 h mission scores 7 - 0.1 * 2 * 39 < 0 (greedy and auto leave
    # it); under affinity alone, with no affinity listed, every pair scores 0.  Stable assigned both.
    p = make([{"id": "e", "lat": 45.35, "max_km": 60}], [{"id": "m"}])
    for policy in (km.Policy.preset("min_travel"), km.Policy(affinity=1)):
        assert km.solve(p, method="greedy", policy=policy).assignments == []
        for side in SIDES:
            s = km.solve(p, method="stable", policy=policy, proposing=side)
            assert s.assignments == [] and s.objective == 0
            # listing the pair on both sides does not make it acceptable
            prefs = {"employees": {"e": ["m"]}, "missions": {"m": ["e"]}}
            assert stable_solve(p, prefs, side, policy).assignments == []
        assert km.blocking_pairs(p, [], policy) == []
    # a near employee is worth taking, the far one is ranked after it and not taken
    q = make([{"id": "far", "lat": 45.35, "max_km": 60}, {"id": "near"}], [{"id": "m", "seats": 2}])
    for side in SIDES:
        assert stable_solve(q, None, side, "min_travel").assignments == [("near", "m")]


@settings(**SETTINGS)
@given(instances(explicit=False), st.sampled_from(["max_hours", "balanced", "min_travel"]))
def test_with_the_policy_on_both_sides_stable_is_what_greedy_finds(inst, policy):
    # docs/solvers.md: with the policy's ranking on both sides the stable assignment is unique,
    # and is what greedy finds (greedy takes arcs of score > 0 only)
    p, _ = inst
    greedy = km.solve(p, method="greedy", policy=policy).assignments
    for side in SIDES:
        assert stable_solve(p, None, side, policy).assignments == greedy


# ----------------------------------------------------------------------------- (e) refusals
@pytest.mark.parametrize("rule, records", [
    ("team minimum", dict(employees=[{"id": "e1"}, {"id": "e2"}], missions=[{"id": "m1", "seats": 2, "min_seats": 2}])),
    ("daily cap", dict(employers=[{"id": "c", "daily_cap": 1}],
                       employees=[{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}],
                       missions=[{"id": "m1", "seats": 2, "date": "2027-03-01"}])),
    ("hours budget", dict(employers=[{"id": "c", "hours_budget": 7}],
                          employees=[{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}],
                          missions=[{"id": "m1", "seats": 2}])),
    ("max_per_employer", dict(employers=[{"id": "c"}],
                              employees=[{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}],
                              missions=[{"id": "m1", "seats": 2, "max_per_employer": 1}])),
    ("forced", dict(employees=[{"id": "e1"}], missions=[{"id": "m1"}], forced=[{"employee": "e1", "mission": "m1"}])),
    # 7 h: one 7 h mission or two 3.5 h ones, a knapsack (one 7 h and one 3.5 h alone is fine, k = 1)
    ("different durations", dict(employees=[{"id": "e1"}],
                                 missions=[{"id": "m1"}, {"id": "m2", "hours": 3.5}, {"id": "m3", "hours": 3.5}])),
])
def test_refuses_rules_it_cannot_honour(rule, records):
    with pytest.raises(km.UnsupportedError) as err:
        km.solve(make(**records), method="stable")
    msg = str(err.value)
    assert rule in msg and "method='stable'" in msg and "cpsat" in msg


def test_accepts_rules_that_cannot_bind():
    # a daily cap of 2 with 2 employees, a cap per employer above the seats: nothing binds
    p = make([{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}],
             [{"id": "m1", "seats": 2, "date": "2027-03-01", "max_per_employer": 2}],
             employers=[{"id": "c", "daily_cap": 2, "hours_budget": 70}])
    s = km.solve(p, method="stable")
    assert len(s.assignments) == 2 and km.check(p, s) == []


# ----------------------------------------------------------------------------- (f) validation
@pytest.mark.parametrize("prefs, exc, text", [
    ({"employees": {"e9": ["m1"]}}, ValueError, "unknown employee id 'e9'"),
    ({"employees": {"e1": ["m1", "m7"]}}, ValueError, "unknown mission id 'm7'"),
    ({"missions": {"m1": ["e1", "nobody"]}}, ValueError, "unknown employee id 'nobody'"),
    ({"missions": {"m5": []}}, ValueError, "unknown mission id 'm5'"),
    ({"employees": {"e1": ["m1", "m1"]}}, ValueError, "'m1' is listed twice"),
    ({"students": {}}, ValueError, "unknown key(s) ['students']"),
    ({"employees": {"e1": "m1"}}, TypeError, "list of mission ids"),
    ({"employees": ["e1"]}, TypeError, "dict of employee id"),
    (["e1"], TypeError, "'preferences' parameter"),
])
def test_explicit_preferences_are_validated(prefs, exc, text):
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    with pytest.raises(exc) as err:
        km.solve(p, method="stable", preferences=prefs)
    assert text in str(err.value)
    with pytest.raises(exc):
        km.blocking_pairs(p, [], preferences=prefs)


def test_every_preferences_problem_named_at_once_as_a_parameter_error():
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    prefs = {"employees": {"e9": ["m1"], "e1": ["m7", "m1", "m1"], "e2": "m1", 3: []}, "missions": None, "x": {}}
    for fn, call in (("solve", lambda: km.solve(p, method="stable", preferences=prefs)),
                     ("blocking_pairs", lambda: km.blocking_pairs(p, [], preferences=prefs))):
        with pytest.raises(km.InvalidParameterError) as err:
            call()
        lines = str(err.value).splitlines()
        assert lines[0] == f"The 'preferences' parameter of {fn} has 7 problems:"
        assert [line.strip() for line in lines[1:]] == [
            "unknown key(s) ['x']; expected 'employees' and/or 'missions'",
            "preferences['employees']: keys must be employee ids (str), not 3",
            "preferences['employees']: unknown employee id 'e9'",
            "preferences['employees']['e1']: unknown mission id 'm7'",
            "preferences['employees']['e1']: mission id 'm1' is listed twice",
            "preferences['employees']['e2'] must be a list of mission ids, best first, not 'm1'",
            "preferences['missions'] must be a dict of mission id -> list of employee ids, not NoneType"]


def test_preferences_may_name_what_fixed_pairs_take():
    # e1 is pinned to m1 (its whole day): the solve of what is left has no e1 and no m1, and
    # the preferences naming them still hold for the rest (e2 accepts m1 or m2, m1 being taken)
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    prefs = {"employees": {"e1": ["m1", "m2"], "e2": ["m1", "m2"]}, "missions": {"m1": ["e2", "e1"]}}
    s = km.solve(p, method="stable", fixed=[("e1", "m1")], preferences=prefs)
    assert s.assignments == [("e1", "m1"), ("e2", "m2")] and km.check(p, s) == []
    with pytest.raises(km.InvalidParameterError, match="unknown employee id 'e9'"):  # the whole problem's ids
        km.solve(p, method="stable", fixed=[("e1", "m1")], preferences={"employees": {"e9": []}})


@pytest.mark.parametrize("solution, text", [
    (None, "'solution' parameter of blocking_pairs must be a Solution or an iterable of (employee id, mission id) "
           "pairs. Got NoneType instead."),
    ("e1", "Got str instead."),
    (3, "Got int instead."),
    ({"e1": "m1"}, "Got dict instead."),
    ([("e1",), ("e1", "m1", "x")], "item(s) #0, #1 are not, e.g. ('e1',)."),
    ([("e9", "m1"), ("e1", "m8")], "names 2 id(s) the problem does not hold: unknown employee id 'e9', "
                                   "unknown mission id 'm8'."),
    ([("e1", "m1"), ("e1", "m1")], "assigns 1 pair(s) more than once: ('e1', 'm1')"),
])
def test_blocking_pairs_names_a_solution_that_is_no_list_of_pairs(solution, text):
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    with pytest.raises(km.InvalidParameterError) as err:
        km.blocking_pairs(p, solution)
    assert text in str(err.value)


@pytest.mark.parametrize("kwargs, text", [
    ({"top_k": 0}, "'top_k' parameter of blocking_pairs must be an integer >= 1 or None. Got 0 instead."),
    ({"top_k": 1.5}, "'top_k' parameter of blocking_pairs must be an integer >= 1 or None. Got 1.5 instead."),
    ({"top_k": "2"}, "'top_k' parameter of blocking_pairs must be an integer >= 1 or None. Got '2' instead."),
    ({"policy": 3}, "'policy' parameter of blocking_pairs must be a Policy, a preset name or weights or None."),
    ({"policy": "max_hourz"}, "'policy' parameter of blocking_pairs is not a valid policy"),
])
def test_blocking_pairs_names_a_bad_parameter(kwargs, text):
    p = make([{"id": "e1"}, {"id": "e2"}], [{"id": "m1"}, {"id": "m2"}])
    with pytest.raises(km.InvalidParameterError) as err:
        km.blocking_pairs(p, [], **kwargs)
    assert text in str(err.value)
    with pytest.raises(km.InvalidParameterError, match="'problem' parameter of blocking_pairs must be a Problem"):
        km.blocking_pairs([], p)


def test_ineligible_listed_pairs_are_ignored_and_unlisted_are_unacceptable():
    p = make([{"id": "e1", "skills": {}}, {"id": "e2"}], [{"id": "m1", "skills": {"law": 1}}, {"id": "m2"}])
    # e1 lists m1 (ineligible: no law) then nothing else: e1 accepts nobody it can do
    s = km.solve(p, method="stable", preferences={"employees": {"e1": ["m1"]}})
    assert s.assignments == [("e2", "m2")]
    assert km.blocking_pairs(p, s, preferences={"employees": {"e1": ["m1"]}}) == []


def test_solve_options_are_checked():
    p = make([{"id": "e1"}], [{"id": "m1"}])
    with pytest.raises(ValueError, match="applies to method='stable' only"):
        km.solve(p, method="greedy", proposing="employees")
    with pytest.raises(ValueError, match="applies to method='stable' only"):
        km.solve(p, method="flow", preferences={})
    with pytest.raises(ValueError, match="'employees' or 'associations'. Got 'missions'"):
        km.solve(p, method="stable", proposing="missions")
    with pytest.raises(ValueError, match=r"\('e1', 'm1'\), which is not an eligible pair"):
        km.blocking_pairs(make([{"id": "e1", "skills": {}}], [{"id": "m1", "skills": {"law": 1}}]), [("e1", "m1")])
    with pytest.raises(ValueError, match="unknown mission id 'zz'"):
        km.blocking_pairs(p, [("e1", "zz")])


# ----------------------------------------------------------------------------- (g) determinism, scale, CLI
@pytest.mark.parametrize("side", SIDES)
def test_deterministic_and_seed_free(side):
    p = km.synth.city(employees=300, seed=4, rules="flow")
    import dataclasses

    import numpy as np

    p = dataclasses.replace(p, missions=dataclasses.replace(p.missions,
                                                            max_per_employer=np.full(p.n_missions, -1, np.int32)))
    runs = [km.solve(p, method="stable", proposing=side, seed=s).assignments for s in (0, 0, 7)]
    assert runs[0] == runs[1] == runs[2] and runs[0]
    s = km.solve(p, method="stable", proposing=side)
    assert km.check(p, s) == [] and km.blocking_pairs(p, s) == []


def test_cli_method_stable(tmp_path, capsys):
    problem, sol = tmp_path / "p.json", tmp_path / "s.json"
    problem.write_text(json.dumps({"format": "koeeo-match/1", "employees": [
        {"id": e, "lat": 45.0, "lon": 5.0} for e in ("e1", "e2")], "missions": [
        {"id": "m1", "association": "a", "seats": 2}], "associations": [{"id": "a", "lat": 45.0, "lon": 5.0}]}))
    assert main(["solve", str(problem), "-o", str(sol), "--method", "stable", "-q"]) == 0
    doc = json.loads(sol.read_text())
    assert doc["status"] == "feasible" and len(doc["assignments"]) == 2
    assert main(["solve", str(problem), "-o", str(sol), "--method", "stable", "--proposing", "associations", "-q"]) == 0


def test_cli_method_choices_follow_solve():
    from koeeo_match import cli

    parser = cli.build_parser()
    for method in km.METHODS:
        assert parser.parse_args(["solve", "p.json", "-o", "s.json", "--method", method]).method == method
    with pytest.raises(SystemExit):
        parser.parse_args(["solve", "p.json", "-o", "s.json", "--method", "simplex"])
