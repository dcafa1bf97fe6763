"""Properties on random small problems holding every rule (hypothesis, deterministic).

(a) every solver's output passes km.check; (b) cpsat and auto reach the brute-force
optimum; (c) flow equals cpsat and brute force wherever flow accepts the problem;
(d) km.check reports each kind of violation injected into a feasible solution, and
agrees with the independent rules of conftest.py on random pair sets.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km

from conftest import brute_force, eligible_pairs, make, pair_km, total_hours, violated_rules

SKILLS = ["law", "it", "com"]
DAYS = ["2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04"]
# joined / posted days (DESIGN §8): before, on and after the mission dates
KNOWN = ["2027-02-27", *DAYS]
SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
MAX_PAIRS = 14


@st.composite
def problems(draw, flow_friendly: bool = False):
    """Records of a random problem; ``flow_friendly`` leaves out what a flow cannot express."""
    n_as = draw(st.integers(1, 2))
    associations = [
        {"id": f"a{i}", "lat": 45.0 + draw(st.sampled_from([0.0, 0.1])), "lon": 5.0 + draw(st.sampled_from([0.0, 0.1])),
         "sector": draw(st.sampled_from(["social", "green"])), "priority": draw(st.sampled_from([1.0, 1.5]))}
        for i in range(n_as)
    ]
    a_ids = [a["id"] for a in associations]
    n_er = draw(st.integers(0, 2))
    employers = []
    for i in range(n_er):
        r = {"id": f"c{i}"}
        if not flow_friendly and draw(st.booleans()):
            r["daily_cap"] = draw(st.sampled_from([1, 2, 0]))
        if not flow_friendly and draw(st.booleans()):
            r["hours_budget"] = draw(st.sampled_from([7.0, 10.5, 14.0, 3.5, 0.0]))
        if draw(st.sampled_from([False, False, True])):
            r["excluded_associations"] = draw(st.lists(st.sampled_from(a_ids), min_size=1, max_size=2, unique=True))
        employers.append(r)
    c_ids = [c["id"] for c in employers]

    n_e = draw(st.integers(1, 6) | st.integers(3, 6))
    employees = []
    for i in range(n_e):
        r = {"id": f"e{i}", "lat": 45.0 + draw(st.sampled_from([0.0, 0.1, 0.25])),
             "lon": 5.0 + draw(st.sampled_from([0.0, 0.15])),
             "max_km": draw(st.sampled_from([40.0, 20.0, 8.0])),
             "remote_ok": draw(st.booleans()),
             "hours": draw(st.sampled_from([7.0, 14.0] if flow_friendly else [3.5, 7.0, 14.0])),
             "skills": draw(st.dictionaries(st.sampled_from(SKILLS), st.sampled_from([2, 3, 1]),
                                            min_size=1, max_size=3))}
        if c_ids and draw(st.sampled_from([True, True, False])):
            r["employer"] = draw(st.sampled_from(c_ids))
        if draw(st.sampled_from([False, False, True])):
            items = st.one_of(st.sampled_from(DAYS), st.tuples(st.sampled_from(DAYS), st.sampled_from(DAYS)).map(
                lambda t: f"{min(t)}/{max(t)}"))
            r["available"] = draw(st.lists(items, max_size=2))
        if draw(st.sampled_from([False, False, True])):
            r["prefers"] = {draw(st.sampled_from(["social", "green"])): draw(st.sampled_from([0.5, 2.0]))}
        if draw(st.sampled_from([False, False, True])):
            r["joined"] = draw(st.sampled_from(KNOWN))
        employees.append(r)

    n_m = draw(st.integers(1, 5) | st.integers(2, 5))
    missions = []
    for j in range(n_m):
        seats = draw(st.integers(1, 3))
        r = {"id": f"m{j}", "association": draw(st.sampled_from(a_ids)), "seats": seats,
             "hours": 7.0 if flow_friendly else draw(st.sampled_from([3.5, 7.0, 14.0])),
             "skills": draw(st.sampled_from([{}, {}, {"law": 1}, {"it": 1}, {"com": 2}, {"law": 3}]))}
        if not flow_friendly and seats > 1 and draw(st.sampled_from([False, False, True])):
            r["min_seats"] = draw(st.integers(2, seats))
        if draw(st.sampled_from([True, True, False])):
            r["date"] = draw(st.sampled_from(DAYS))
        if draw(st.sampled_from([False, False, False, True])):
            r["remote"] = True
        if draw(st.sampled_from([False, False, True])):
            r["max_per_employer"] = draw(st.integers(1, 2))
        if draw(st.sampled_from([False, False, True])):  # posted no later than its date
            r["posted"] = draw(st.sampled_from([k for k in KNOWN if k <= r.get("date", KNOWN[-1])]))
        missions.append(r)

    e_ids, m_ids = [e["id"] for e in employees], [m["id"] for m in missions]
    pair = st.tuples(st.sampled_from(e_ids), st.sampled_from(m_ids))
    some_pairs = st.lists(pair, max_size=2, unique=True)
    forbidden = [{"employee": e, "mission": m} for e, m in draw(some_pairs)]
    forced = []
    if not flow_friendly and draw(st.sampled_from([False, False, False, True])):
        e, m = draw(pair)
        if {"employee": e, "mission": m} not in forbidden:
            forced = [{"employee": e, "mission": m}]
    affinities = [{"employee": e, "mission": m, "score": s}
                  for (e, m), s in zip(draw(some_pairs),
                                       draw(st.lists(st.sampled_from([0.5, 3.0]), min_size=2, max_size=2)))]
    return dict(employees=employees, missions=missions, associations=associations, employers=employers,
                forced=forced, forbidden=forbidden, affinities=affinities)


def small(records):
    """The problem, if it is small enough for brute force."""
    problem = make(**records)
    n = len(eligible_pairs(problem))
    assume(n <= MAX_PAIRS)
    return problem


# ----------------------------------------------------------------------------- (a) feasibility
@settings(max_examples=80, **SETTINGS)
@given(problems())
def test_every_solver_is_feasible(records):
    problem = make(**records)
    assume(eligible_pairs(problem))  # BUG-2
    for method in ("cpsat", "greedy", "fcfs", "auto"):
        sol = km.solve(problem, method=method, seed=1)
        if sol.status in (km.Status.INFEASIBLE, km.Status.UNKNOWN):
            assert len(problem.forced), (method, sol)
            assert sol.assignments == []
            continue
        assert km.check(problem, sol) == [], method
        assert sol.metrics["assigned_hours"] == pytest.approx(total_hours(problem, sol.assignments))
        # stable order: employee input order, then mission input order
        e_pos = {k: i for i, k in enumerate(problem.employees.ids.tolist())}
        m_pos = {k: i for i, k in enumerate(problem.missions.ids.tolist())}
        keys = [(e_pos[e], m_pos[m]) for e, m in sol.assignments]
        assert keys == sorted(keys)


# ----------------------------------------------------------------------------- (b) optimality
@settings(max_examples=70, **SETTINGS)
@given(problems())
def test_cpsat_and_auto_reach_brute_force_max_hours(records):
    problem = small(records)
    best = brute_force(problem, "max_hours", max_pairs=MAX_PAIRS)
    for method in ("cpsat", "auto"):
        sol = km.solve(problem, method=method, policy="max_hours")
        if best.pairs is None:
            assert sol.status == km.Status.INFEASIBLE, method
            continue
        assert sol.status == km.Status.OPTIMAL, method
        assert km.check(problem, sol) == []
        assert sol.objective == pytest.approx(best.primary), (method, best, sol.assignments)
        assert sol.metrics["assigned_hours"] == pytest.approx(best.primary)


@settings(max_examples=50, **SETTINGS)
@given(problems())
def test_cpsat_reaches_brute_force_balanced(records):
    problem = small(records)
    policy = km.Policy.preset("balanced")
    best = brute_force(problem, policy, max_pairs=MAX_PAIRS)
    sol = km.solve(problem, method="cpsat", policy=policy)
    if best.pairs is None:
        assert sol.status == km.Status.INFEASIBLE
        return
    assert sol.status == km.Status.OPTIMAL
    assert km.check(problem, sol) == []
    assert sol.objective == pytest.approx(best.secondary, rel=1e-6, abs=1e-6), (best, sol.assignments)


@pytest.mark.parametrize("policy", ["max_coverage", "territorial_equity", "min_travel",
                                    "preference=1,priority=0.5,affinity=1,travel_km=0.05"])
@settings(max_examples=25, **SETTINGS)
@given(records=problems())
def test_cpsat_reaches_brute_force_other_policies(records, policy):
    problem = small(records)
    policy = km.Policy.parse(policy)
    best = brute_force(problem, policy, max_pairs=MAX_PAIRS)
    sol = km.solve(problem, method="cpsat", policy=policy)
    if best.pairs is None:
        assert sol.status == km.Status.INFEASIBLE
        return
    assert sol.status == km.Status.OPTIMAL and km.check(problem, sol) == []
    target = best.primary if policy.primary else best.secondary
    assert sol.objective == pytest.approx(target, rel=1e-6, abs=1e-6), (best, sol.assignments)


@settings(max_examples=40, **SETTINGS)
@given(problems())
def test_heuristics_never_beat_brute_force(records):
    problem = small(records)
    best = brute_force(problem, "max_hours", max_pairs=MAX_PAIRS)
    for method in ("greedy", "fcfs"):
        sol = km.solve(problem, method=method)
        if best.pairs is None:
            assert sol.status in (km.Status.INFEASIBLE, km.Status.UNKNOWN)
        elif sol.status == km.Status.FEASIBLE:
            assert sol.objective <= best.primary + 1e-9


@settings(max_examples=60, **SETTINGS)
@given(st.data())
def test_candidate_pairs_match_independent_eligibility_worldwide(data):
    """Distances anywhere on the globe (poles, antimeridian), radii from 0 to 20,000 km:
    the candidate graph holds exactly the independently eligible pairs."""
    coord = st.tuples(st.floats(-90, 90), st.floats(-180, 180))
    emps = data.draw(st.lists(st.tuples(coord, st.sampled_from([0.0, 1.0, 50.0, 500.0, 5000.0, 20000.0])),
                              min_size=1, max_size=6))
    spots = data.draw(st.lists(coord, min_size=1, max_size=4))
    near = data.draw(st.lists(st.tuples(st.integers(0, len(emps) - 1), st.floats(-0.3, 0.3)), max_size=3))
    spots += [(max(-90.0, min(90.0, emps[i][0][0] + d)), emps[i][0][1]) for i, d in near]
    problem = make(
        associations=[{"id": f"a{j}", "lat": la, "lon": lo} for j, (la, lo) in enumerate(spots)],
        employees=[{"id": f"e{i}", "lat": la, "lon": lo, "max_km": r} for i, ((la, lo), r) in enumerate(emps)],
        missions=[{"id": f"m{j}", "association": f"a{j}"} for j in range(len(spots))],
    )
    graph = km.build_candidates(problem, km.Policy.preset("max_hours"))
    got = set(zip(graph.employee.tolist(), graph.mission.tolist()))
    want = set(eligible_pairs(problem))
    # pairs within a micrometre of the radius may fall either way
    fuzzy = {(e, m) for e in range(problem.n_employees) for m in range(problem.n_missions)
             if abs(pair_km(problem, e, m) - problem.employees.max_km[e]) < 1e-6}
    assert got - fuzzy == want - fuzzy


# ----------------------------------------------------------------------------- (c) flow
def _flow_or_skip(problem, policy):
    try:
        return km.solve(problem, method="flow", policy=policy)
    except km.UnsupportedError:
        assume(False)


@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
@settings(max_examples=60, **SETTINGS)
@given(records=problems(flow_friendly=True))
def test_flow_equals_cpsat_and_brute_force(records, policy):
    problem = small(records)
    flow = _flow_or_skip(problem, policy)
    cpsat = km.solve(problem, method="cpsat", policy=policy)
    best = brute_force(problem, policy, max_pairs=MAX_PAIRS)
    target = best.primary if km.Policy.parse(policy).primary else best.secondary
    assert flow.status == km.Status.OPTIMAL
    assert km.check(problem, flow) == []
    assert flow.objective == pytest.approx(cpsat.objective, rel=1e-6, abs=1e-6)
    assert flow.objective == pytest.approx(target, rel=1e-6, abs=1e-6), (best, flow.assignments)


@settings(max_examples=60, **SETTINGS)
@given(problems())
def test_flow_on_any_problem_is_exact_or_refuses(records):
    problem = small(records)
    flow = _flow_or_skip(problem, "max_hours")
    best = brute_force(problem, "max_hours", max_pairs=MAX_PAIRS)
    assert km.check(problem, flow) == []
    assert flow.objective == pytest.approx(best.primary)
    assert "cpsat" not in km.solve(problem, method="auto").method  # DESIGN §7


# ----------------------------------------------------------------------------- (d) check
@settings(max_examples=80, **SETTINGS)
@given(problems(), st.data())
def test_check_agrees_with_independent_rules(records, data):
    """On random pair sets (eligible or not, duplicates, unknown ids), km.check and the
    independent rules of conftest.py name the same broken rules."""
    problem = make(**records)
    e_ids = problem.employees.ids.tolist() + ["nobody"]
    m_ids = problem.missions.ids.tolist()
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(e_ids), st.sampled_from(m_ids)), max_size=8))
    assert {v.rule for v in km.check(problem, pairs)} == violated_rules(problem, pairs)


# A base problem holding every rule, with a feasible solution; each injection breaks one rule.
D1, D2 = "2027-03-12", "2027-03-15"
BASE = dict(
    associations=[{"id": "a", "lat": 45.0, "lon": 5.0}, {"id": "b", "lat": 45.0, "lon": 5.0},
                  {"id": "far", "lat": 46.0, "lon": 5.0}, {"id": "web", "lat": 48.85, "lon": 2.35}],
    employers=[{"id": "c", "daily_cap": 2, "hours_budget": 21, "excluded_associations": ["b"]}, {"id": "d"}],
    employees=[
        {"id": "e1", "employer": "c", "skills": {"law": 2}, "available": [D1]},
        {"id": "e2", "employer": "c", "hours": 14},
        {"id": "e3", "employer": "c"},
        {"id": "e4", "employer": "d", "hours": 14, "remote_ok": True},
        {"id": "e5"},
        {"id": "e6"},
    ],
    missions=[
        {"id": "law", "skills": {"law": 2}, "date": D1},
        {"id": "team", "seats": 3, "min_seats": 2, "max_per_employer": 1},
        {"id": "day1", "date": D1, "seats": 3},
        {"id": "day1b", "date": D1, "seats": 3},
        {"id": "day2", "date": D2},
        {"id": "far", "association": "far"},
        {"id": "web", "association": "web", "remote": True},
        {"id": "b", "association": "b"},
        {"id": "solo"},
        {"id": "late", "date": D2, "posted": D2},  # posted on its day: open to nobody
    ],
    forced=[{"employee": "e6", "mission": "solo"}],
    forbidden=[{"employee": "e5", "mission": "day2"}],
)
VALID = [("e1", "law"), ("e2", "day1"), ("e3", "team"), ("e4", "team"), ("e4", "web"), ("e6", "solo")]

INJECTIONS = {
    "skill": lambda s: s + [("e5", "law")],
    "availability": lambda s: s + [("e1", "day2")],
    "distance": lambda s: s + [("e5", "far")],
    "remote": lambda s: s + [("e5", "web")],
    "excluded": lambda s: s + [("e3", "b")],
    "forbidden": lambda s: s + [("e5", "day2")],
    "known_in_time": lambda s: s + [("e5", "late")],
    "duplicate": lambda s: s + [("e1", "law")],
    "unknown_id": lambda s: s + [("e9", "law")],
    "employee_hours": lambda s: s + [("e4", "day1")],  # e4: 14 h used of 14
    "one_per_date": lambda s: s + [("e2", "day1b")],  # e2 has 14 h but day1 is that date
    "seats": lambda s: s + [("e5", "solo")],  # solo has one seat (e6)
    "team_minimum": lambda s: [p for p in s if p != ("e4", "team")],  # 1 < min_seats 2
    "max_per_employer": lambda s: s + [("e2", "team")],  # 2 from c, cap 1
    "daily_cap": lambda s: s + [("e3", "day1b")],  # c already has e1, e2 away on D1, cap 2
    "hours_budget": lambda s: s + [("e2", "day2")],  # c: 7 + 7 + 7 + 7 = 28 > 21
    "forced": lambda s: [p for p in s if p != ("e6", "solo")],
}


def test_base_solution_is_valid():
    problem = make(**BASE)
    assert km.check(problem, VALID) == []
    assert violated_rules(problem, VALID) == set()


@pytest.mark.parametrize("rule", sorted(INJECTIONS))
def test_check_reports_injected_violation(rule):
    problem = make(**BASE)
    pairs = INJECTIONS[rule](list(VALID))
    rules = [v.rule for v in km.check(problem, pairs)]
    assert rule in rules
    assert violated_rules(problem, pairs) == set(rules)


@pytest.mark.parametrize("rule", sorted(INJECTIONS))
def test_check_reports_violation_injected_into_solver_output(rule):
    """Same injections, applied to cpsat's optimal solution of the base problem."""
    problem = make(**BASE)
    sol = km.solve(problem, method="cpsat")
    assert km.check(problem, sol) == []
    base = sol.assignments
    injected = INJECTIONS[rule](list(base))
    if injected == base:
        pytest.skip("this injection removes a pair the optimum does not hold")
    rules = {v.rule for v in km.check(problem, injected)}
    assert rules == violated_rules(problem, injected)
