"""method="auto" through its decomposition path: parts, geographic groups, relaxation
bounds, repair and CP-SAT per part (thresholds monkeypatched tiny so that small
instances take it), checked against km.check and brute force."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
import koeeo_match.solvers.auto as auto
from koeeo_match.solvers._auto_search import COARSE_LEVELS, coarse
from koeeo_match.solvers.flow import flow_obstacles

from conftest import brute_force, eligible_pairs, make
from test_properties import MAX_PAIRS, SETTINGS, problems

OK = (km.Status.OPTIMAL, km.Status.FEASIBLE)
# the monkeypatched thresholds are the same for every example: a function-scoped fixture is fine
SETTINGS = {**SETTINGS,
            "suppress_health_check": [*SETTINGS["suppress_health_check"], HealthCheck.function_scoped_fixture]}


@pytest.fixture(params=[(5, 3, 10**9, 10**9, 0), (2, 1, 10**9, 10**9, 0), (5, 2, 3, 10**9, 0),
                        (5, 3, 10**9, 1, 0), (5, 2, 3, 10**9, 4)],
                ids=["max5-part3", "max2-part1", "split3", "core", "split3-mip4"])
def tiny_parts(request, monkeypatch):
    """Tiny thresholds, and no MIP route for the whole instance (``MIP_ARCS = 0``), so that the
    decomposition runs; ``split3`` also splits coupled components above 3 arcs (shared employer
    caps and budgets apportioned between the parts); ``core`` searches each part's core on the
    coarse objective first (as on instances above ``PARALLEL_ARCS``); ``mip4`` gives parts of at
    most 4 arcs to the MIP route (``MIP_PART_ARCS``), the others none."""
    monkeypatch.setattr(auto, "CPSAT_MAX_ARCS", request.param[0])
    monkeypatch.setattr(auto, "PART_ARCS", request.param[1])
    monkeypatch.setattr(auto, "SPLIT_ARCS", request.param[2])
    monkeypatch.setattr(auto, "PARALLEL_ARCS", request.param[3])
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    monkeypatch.setattr(auto, "MIP_PART_ARCS", request.param[4])


def small_problem(records):
    """The problem if brute force can solve it and a flow cannot (auto decomposes it)."""
    p = make(**records)
    n = len(eligible_pairs(p))
    assume(n <= MAX_PAIRS)
    assume(flow_obstacles(p, km.build_candidates(p, km.Policy.preset("max_hours"))))
    return p


def check_against_brute_force(p: km.Problem, sol: km.Solution, policy: str):
    best = brute_force(p, policy, max_pairs=MAX_PAIRS)
    target = best.primary if km.Policy.parse(policy).primary else best.secondary
    if sol.status not in OK:
        assert sol.assignments == [] and len(p.forced), sol
        if sol.status == km.Status.INFEASIBLE:
            assert best.pairs is None, (sol, best)  # a proof of infeasibility must be right
        return
    assert best.pairs is not None, "brute force finds no feasible solution, auto returned one"
    assert km.check(p, sol) == []
    assert sol.bound is not None
    assert sol.objective <= target + 1e-6, (sol, best)
    assert target <= sol.bound + 1e-6, (sol, best)  # the bound is a valid upper bound
    if sol.status == km.Status.OPTIMAL:
        assert sol.objective == pytest.approx(target, rel=1e-6, abs=1e-6), (sol, best)
    else:
        assert sol.gap == pytest.approx(max(sol.bound - sol.objective, 0) / max(abs(sol.bound), 1.0))


# ----------------------------------------------------------------------------- decomposition on random instances
@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
@settings(max_examples=45, **SETTINGS)
@given(records=problems())
def test_decomposed_auto_is_feasible_and_bounded(tiny_parts, records, policy):
    p = small_problem(records)
    sol = km.solve(p, method="auto", policy=policy, seed=0)
    check_against_brute_force(p, sol, policy)


@settings(max_examples=30, **SETTINGS)
@given(records=problems())
def test_decomposed_auto_with_a_tiny_time_limit(tiny_parts, records):
    """Budgets below 0.05 s: relaxation + repair per part, bound from the relaxations."""
    p = small_problem(records)
    sol = km.solve(p, method="auto", time_limit=0.01)
    check_against_brute_force(p, sol, "max_hours")


@st.composite
def problems_with_forced(draw):
    """Random problems with one to three forced pairs (eligible or not, compatible or not)."""
    records = draw(problems())
    e_ids = [e["id"] for e in records["employees"]]
    m_ids = [m["id"] for m in records["missions"]]
    pairs = draw(st.lists(st.tuples(st.sampled_from(e_ids), st.sampled_from(m_ids)), min_size=1, max_size=3,
                          unique=True))
    banned = {(f["employee"], f["mission"]) for f in records["forbidden"]}
    records["forced"] = [{"employee": e, "mission": m} for e, m in pairs if (e, m) not in banned]
    return records


@settings(max_examples=50, **SETTINGS)
@given(records=problems_with_forced())
def test_decomposed_auto_with_forced_pairs(tiny_parts, records):
    p = small_problem(records)
    sol = km.solve(p, method="auto", seed=0)
    check_against_brute_force(p, sol, "max_hours")


def clusters(n: int = 3) -> km.Problem:
    """``n`` far-apart towns, each with mixed durations and a team mission: independent parts."""
    associations, employees, missions = [], [], []
    for k in range(n):
        lat = 44.0 + 2 * k
        associations.append({"id": f"a{k}", "lat": lat, "lon": 5.0, "priority": 1.0 + k / 2})
        employees += [{"id": f"e{k}.{i}", "lat": lat, "lon": 5.0 + 0.05 * i, "hours": 7.0,
                       "skills": {"law": 1 + i % 3}} for i in range(5)]
        missions += [{"id": f"m{k}.short", "association": f"a{k}", "hours": 3.5, "seats": 2, "date": "2027-03-01"},
                     {"id": f"m{k}.day", "association": f"a{k}", "hours": 7.0, "skills": {"law": 2}},
                     {"id": f"m{k}.team", "association": f"a{k}", "hours": 3.5, "seats": 3, "min_seats": 2,
                      "date": "2027-03-02"}]
    return make(employees=employees, missions=missions, associations=associations)


@pytest.mark.parametrize("policy", ["max_hours", "territorial_equity"])
def test_independent_parts_sum_their_bounds(tiny_parts, policy):
    p = clusters()
    ref = km.solve(p, method="cpsat", policy=policy)
    assert ref.status == km.Status.OPTIMAL
    for limit in (None, 0.01):
        sol = km.solve(p, method="auto", policy=policy, time_limit=limit)
        assert sol.status in OK and km.check(p, sol) == [], sol
        assert sol.method.startswith("auto:parts(")
        assert sol.objective <= ref.objective + 1e-6 <= sol.bound + 2e-6, (sol, ref)
        if sol.status == km.Status.OPTIMAL:
            assert sol.objective == pytest.approx(ref.objective)


# ----------------------------------------------------------------------------- without monkeypatching
@settings(max_examples=25, **SETTINGS)
@given(records=problems())
def test_auto_reaches_brute_force_optimum(records):
    p = small_problem(records)
    sol = km.solve(p, method="auto")
    best = brute_force(p, "max_hours", max_pairs=MAX_PAIRS)
    if best.pairs is None:
        assert sol.status == km.Status.INFEASIBLE and sol.assignments == []
        return
    assert sol.status == km.Status.OPTIMAL and km.check(p, sol) == []
    assert sol.objective == pytest.approx(best.primary)


# ----------------------------------------------------------------------------- forced pairs, hand cases
FORCED_CASES = {
    "ineligible": dict(employees=[{"id": "e1", "skills": {"it": 1}}],
                       missions=[{"id": "m1", "skills": {"law": 1}}, {"id": "m2"}],
                       forced=[{"employee": "e1", "mission": "m1"}]),
    "one_seat_two_forced": dict(employees=[{"id": "e1"}, {"id": "e2"}, {"id": "e3"}],
                                missions=[{"id": "m1"}, {"id": "m2", "seats": 2}],
                                forced=[{"employee": "e1", "mission": "m1"}, {"employee": "e2", "mission": "m1"}]),
    "hours": dict(employees=[{"id": "e1"}, {"id": "e2"}],
                  missions=[{"id": "m1"}, {"id": "m2"}, {"id": "m3", "seats": 2}],
                  forced=[{"employee": "e1", "mission": "m1"}, {"employee": "e1", "mission": "m2"}]),
    "same_date": dict(employees=[{"id": "e1", "hours": 14}, {"id": "e2"}],
                      missions=[{"id": "m1", "date": "2027-03-01"}, {"id": "m2", "date": "2027-03-01"},
                                {"id": "m3", "seats": 2}],
                      forced=[{"employee": "e1", "mission": "m1"}, {"employee": "e1", "mission": "m2"}]),
    "team_cannot_run": dict(employees=[{"id": "e1"}, {"id": "e2", "skills": {"it": 1}}, {"id": "e3"}],
                            missions=[{"id": "t", "seats": 3, "min_seats": 3, "skills": {"it": 1}},
                                      {"id": "m2", "seats": 2}],
                            forced=[{"employee": "e2", "mission": "t"}]),
    "daily_cap": dict(employers=[{"id": "c", "daily_cap": 1}],
                      employees=[{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}, {"id": "e3"}],
                      missions=[{"id": "m1", "date": "2027-03-01"}, {"id": "m2", "date": "2027-03-01"},
                                {"id": "m3", "seats": 2}],
                      forced=[{"employee": "e1", "mission": "m1"}, {"employee": "e2", "mission": "m2"}]),
    "budget": dict(employers=[{"id": "c", "hours_budget": 7}],
                   employees=[{"id": "e1", "employer": "c"}, {"id": "e2", "employer": "c"}, {"id": "e3"}],
                   missions=[{"id": "m1"}, {"id": "m2"}, {"id": "m3", "seats": 2}],
                   forced=[{"employee": "e1", "mission": "m1"}, {"employee": "e2", "mission": "m2"}]),
    "forced_and_forbidden_elsewhere": dict(
        employees=[{"id": "e1"}, {"id": "e2"}], missions=[{"id": "m1"}, {"id": "m2"}],
        forced=[{"employee": "e1", "mission": "m1"}], forbidden=[{"employee": "e2", "mission": "m1"}]),
}
FEASIBLE_CASES = {"forced_and_forbidden_elsewhere"}


@pytest.mark.parametrize("tiny", [False, True])
@pytest.mark.parametrize("case", sorted(FORCED_CASES))
def test_forced_pairs_never_give_an_infeasible_solution(case, tiny, monkeypatch):
    if tiny:
        monkeypatch.setattr(auto, "CPSAT_MAX_ARCS", 2)
        monkeypatch.setattr(auto, "PART_ARCS", 1)
    p = make(**FORCED_CASES[case])
    for limit in (None, 0.01):
        sol = km.solve(p, method="auto", time_limit=limit)
        if case in FEASIBLE_CASES:
            assert sol.status in OK and km.check(p, sol) == []
            assert ("e1", "m1") in sol.assignments
        else:
            assert sol.status in (km.Status.INFEASIBLE, km.Status.UNKNOWN), (case, sol)
            assert sol.assignments == [] and len(sol) == 0
            if limit is None and not tiny:  # whole parts to CP-SAT: a proof
                assert sol.status == km.Status.INFEASIBLE, (case, sol)


# ----------------------------------------------------------------------------- a region
@pytest.fixture(scope="module")
def bretagne():
    return km.synth.region("Bretagne", employees=3000, seed=0)


def check_bounded(p: km.Problem, sol: km.Solution):
    assert sol.status in OK
    assert km.check(p, sol) == []
    assert sol.bound is not None and math.isfinite(sol.bound)
    assert sol.bound >= sol.objective - 1e-9
    gap = (sol.bound - sol.objective) / sol.bound
    assert sol.gap == pytest.approx(0.0 if sol.status == km.Status.OPTIMAL else gap, abs=1e-12)
    assert sol.metrics["gap"] == sol.gap
    assert sol.metrics["bound"] == sol.bound and sol.metrics["objective"] == sol.objective


def test_region_with_a_tiny_time_limit(bretagne):
    sol = km.solve(bretagne, method="auto", time_limit=1e-6)
    check_bounded(bretagne, sol)
    assert len(sol) > 0


def test_region_with_twenty_seconds(bretagne, monkeypatch):
    """Without the MIP route, the part is searched by CP-SAT from its repaired start, and the
    search improves on it."""
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    monkeypatch.setattr(auto, "MIP_PART_ARCS", 0)
    sol = km.solve(bretagne, method="auto", time_limit=20)
    check_bounded(bretagne, sol)
    assert sol.metrics["solve_seconds"] < 40
    quick = km.solve(bretagne, method="auto", time_limit=1e-6)  # the greedy start alone
    assert sol.objective > quick.objective, (sol, quick)
    assert sol.method == "auto:parts(lp+repair+cpsat=1)" and quick.method == "auto:parts(greedy=1)"
    assert quick.termination == km.Termination.TIME_LIMIT and km.check(bretagne, quick) == []


def test_region_core_searched_by_lns_alone(bretagne, monkeypatch):
    """The core of a large part is searched by CP-SAT's LNS alone (no proof): still feasible,
    bounded, the part ends with its core search, and that search improves on the start."""
    monkeypatch.setattr(auto, "PARALLEL_ARCS", 1)
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    monkeypatch.setattr(auto, "MIP_PART_ARCS", 0)
    sol = km.solve(bretagne, method="auto", time_limit=10)
    check_bounded(bretagne, sol)
    quick = km.solve(bretagne, method="auto", time_limit=1e-6)
    assert sol.objective > quick.objective, (sol, quick)
    assert sol.method == "auto:parts(lp+core=1)", sol.method  # the core search improved the start


@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
def test_small_region_reaches_the_proven_optimum(policy, monkeypatch):
    """Without the MIP route and without a time limit each part goes on from its repaired start
    to CP-SAT, which proves it optimal: auto's objective is CP-SAT's proven optimum of the whole
    problem, which the repaired start alone does not reach on this instance."""
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    monkeypatch.setattr(auto, "MIP_PART_ARCS", 0)
    p = km.synth.region("Bretagne", employees=200, seed=0)  # every rule: auto decomposes
    ref = km.solve(p, method="cpsat", policy=policy)
    assert ref.status == km.Status.OPTIMAL
    sol = km.solve(p, method="auto", policy=policy)
    assert sol.status == km.Status.OPTIMAL and km.check(p, sol) == [], sol
    assert sol.objective == pytest.approx(ref.objective, rel=1e-9) and sol.gap == 0.0
    assert sol.method == "auto:parts(lp+repair+cpsat=1)", sol.method
    start = km.solve(p, method="auto", policy=policy, time_limit=1e-6)  # repair, no search
    assert km.check(p, start) == [] and start.objective < ref.objective - 1e-6, (start, ref)


@settings(max_examples=40, **SETTINGS)
@given(records=problems())
def test_coarse_scores_keep_the_primary_order(records):
    """The coarse scores are primary x a multiplier above any difference of secondary totals, plus
    a secondary step of at most COARSE_LEVELS, each step of the sign of the exact secondary."""
    p = make(**records)
    g = km.build_candidates(p, km.Policy.preset("max_hours"))
    assume(len(g) > 0)
    c = coarse(g)
    m = g.scale.multiplier
    prim = (g.score + m // 2) // m
    sec = g.score - prim * m
    if c is g:
        return
    mult = 2 * COARSE_LEVELS * len(g) + 1
    assert mult < m
    step = c.score - prim * mult
    assert (abs(step) <= COARSE_LEVELS).all()
    assert (np.sign(step) * np.sign(sec) >= 0).all()
    # any two sets of arcs: their secondary steps differ by less than the multiplier
    assert 2 * COARSE_LEVELS * len(g) < mult


def test_coarse_scores_adversarial():
    """One arc one primary unit better, with the lowest secondary, against every other arc with
    the highest secondary: the single arc still wins under the coarse scores."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    g = km.build_candidates(p, km.Policy.preset("max_hours"))
    m = g.scale.multiplier
    top = int(abs(g.score - ((g.score + m // 2) // m) * m).max())
    assert top > 0
    n = len(g)
    score = np.full(n, top, np.int64)  # primary 0, secondary +top
    score[0] = m - top  # primary 1, secondary -top
    exact = replace(g, score=score)
    c = coarse(exact)
    assert c is not exact and int(c.score[0]) > int(c.score[1:].sum())


# ----------------------------------------------------------------------------- shared caps apportioned
def test_split_apportions_shared_caps_exactly(monkeypatch):
    """Coupled components above SPLIT_ARCS are cut; each shared cap and budget that can bind is
    divided so that the parts' shares sum to the employer's own, and auto's solution keeps every
    employer's cap under km.check, below the bound of the whole."""
    import numpy as np

    from koeeo_match.solvers.lp import lp_relaxation

    p = km.synth.france(scale=0.003, seed=5, rules="all", multi_day_share=0.2)
    g = km.build_candidates(p, "max_hours", k=5)
    one = auto.split(p, g)
    monkeypatch.setattr(auto, "SPLIT_ARCS", 300)
    monkeypatch.setattr(auto, "PART_ARCS", 300)
    parts = auto.split(p, g)
    assert len(parts) > len(one)
    assert np.array_equal(np.sort(np.concatenate([q.arcs for q in parts])), np.arange(len(g)))  # every arc, once
    x = np.zeros(len(g))
    for q in parts:
        x[q.arcs] = lp_relaxation(p, g.subset(q.arcs))[1]
    er = p.employers
    for use in (None, x):
        shares = auto.apportion(p, g, parts, use)
        caps, budgets = {}, {}
        for s in shares:
            if s is not None:
                for c, cap, bud in zip(*s):
                    caps.setdefault(c, []).append(cap)
                    budgets.setdefault(c, []).append(bud)
        split_caps = [c for c, v in caps.items() if any(x != er.daily_cap[c] for x in v)]
        split_budgets = [c for c, v in budgets.items() if any(x != er.hours_budget[c] for x in v)]
        assert split_caps and split_budgets
        for c in split_caps:
            assert sum(caps[c]) == er.daily_cap[c] and min(caps[c]) >= 0
        for c in split_budgets:
            assert sum(budgets[c]) == pytest.approx(er.hours_budget[c]) and min(budgets[c]) >= 0
    sol = km.solve(p, method="auto", top_k=5, time_limit=20)
    assert km.check(p, sol) == [] and sol.objective <= sol.metrics["graph_bound"]  # bound on the capped graph


def test_components_with_forced_pairs_are_not_cut(monkeypatch):
    """A forced pair keeps its coupled component whole (a share of a cap could leave its part no
    room for the pair), and auto then honours the pair and every cap."""
    from dataclasses import replace

    import numpy as np

    from koeeo_match.model import Pairs

    p = km.synth.france(scale=0.003, seed=5, rules="all", multi_day_share=0.2)
    g = km.build_candidates(p, "max_hours", k=5)
    monkeypatch.setattr(auto, "SPLIT_ARCS", 300)
    monkeypatch.setattr(auto, "PART_ARCS", 300)
    cut = auto.split(p, g)
    big = max(cut, key=len)
    a = int(big.arcs[0])
    pf = replace(p, forced=Pairs(g.employee[[a]], g.mission[[a]], np.zeros(1)))
    whole = auto.split(pf, g)
    assert len(whole) < len(cut)
    home = next(q for q in whole if a in q.arcs)
    assert len(home) > len(next(q for q in cut if a in q.arcs))
    sol = km.solve(pf, method="auto", top_k=5, time_limit=20)
    assert km.check(pf, sol) == []
    assert (p.employees.ids[g.employee[a]], p.missions.ids[g.mission[a]]) in set(sol.assignments)
