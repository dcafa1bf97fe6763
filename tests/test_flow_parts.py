"""Solving the flow network by parts (connected components packed into parts) is exact."""

from __future__ import annotations

import numpy as np
import pytest

import koeeo_match as km
from koeeo_match.solvers import SolveOptions
from koeeo_match.solvers import flow as F
from koeeo_match.solvers._structure import structure


@pytest.fixture(scope="module")
def problem():
    # many components; employees with several days ([employee, date] layer) and binding
    # max_per_employer ([mission, employer] layer), all flow-expressible
    return km.synth.france(scale=0.002, seed=1, rules="flow", multi_day_share=0.3)


@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
def test_parts_do_not_change_the_optimum(problem, policy, monkeypatch):
    g = km.build_candidates(problem, policy)
    st = structure(problem, g)
    k, _ = F.employee_capacity(g, st)
    assert (k >= 2).sum() > 0
    has = st.mc >= 0
    assert (np.bincount(st.mc[has], minlength=st.n_mc) > st.mc_cap).any()
    monkeypatch.setattr(F, "PART_ARCS", 10**9)
    one = F.solve_flow(problem, g, SolveOptions(workers=1))
    whole = km.solve(problem, method="flow", policy=policy)
    monkeypatch.setattr(F, "PART_ARCS", 1)
    many = F.solve_flow(problem, g, SolveOptions(workers=1))
    apart = km.solve(problem, method="flow", policy=policy)
    assert one.stats["parts"] == 1
    assert 100 < many.stats["parts"] <= many.stats["components"]  # one part per component with arcs
    assert int(g.score[one.selected].sum()) == int(g.score[many.selected].sum()) == one.bound == many.bound
    assert whole.objective == pytest.approx(apart.objective)
    assert km.check(problem, whole) == [] and km.check(problem, apart) == []


def test_safe_capacity_fits_any_choice_and_is_maximal():
    p = km.synth.france(scale=0.002, seed=2, rules="all", multi_day_share=0.3)
    g = km.build_candidates(p, "max_hours")
    st = structure(p, g)
    k = F.safe_capacity(g, st)
    small, _ = F.employee_capacity(g, st)
    assert (k <= small).all() and (k < small).any()
    for e in np.flatnonzero(np.diff(g.ptr) > 0):
        h = np.sort(st.arc_hours[g.ptr[e] : g.ptr[e + 1]])[::-1]
        assert h[: k[e]].sum() <= st.emp_hours[e]  # the k longest fit, so any k do
        assert k[e] == h.size or h[: k[e] + 1].sum() > st.emp_hours[e]


def test_auto_warm_start_keeps_hours_and_team_minimums():
    from koeeo_match.solvers._auto_starts import warm_start

    p = km.synth.france(scale=0.002, seed=2, rules="all", multi_day_share=0.3)
    g = km.build_candidates(p, "max_hours")
    st = structure(p, g)
    sel = warm_start(p, g, st)
    assert sel.size > 0
    hours = np.bincount(g.employee[sel], weights=st.arc_hours[sel], minlength=g.n_employees)
    assert (hours <= st.emp_hours).all()
    cnt = np.bincount(g.mission[sel], minlength=g.n_missions)
    used_teams = st.team & (cnt > 0)
    assert used_teams.any() and (cnt[used_teams] >= p.missions.min_seats[used_teams]).all()


def test_auto_lns_keeps_every_rule_and_never_loses():
    """_auto_search.improve (LNS over windows, every arc outside a window fixed): from a greedy
    solution, small windows, one pass; the result passes the independent checker, scores at
    least as much, and with a hard rule mix (teams, daily caps, budgets, multi-day) improves."""
    import time

    from koeeo_match.solvers._auto_search import improve
    from koeeo_match.solvers.greedy import greedy_from

    p = km.synth.france(scale=0.002, seed=2, rules="all", multi_day_share=0.3)
    g = km.build_candidates(p, "max_hours")
    start = greedy_from(p, g).selected
    sel = improve(p, g, start, time.monotonic() + 120, window=400, rounds=1)
    pairs = [(p.employees.ids[e], p.missions.ids[m]) for e, m in zip(g.employee[sel], g.mission[sel])]
    assert km.check(p, pairs) == []
    assert int(g.score[sel].sum()) > int(g.score[start].sum())


def test_auto_lns_keeps_forced_pairs():
    import time
    from dataclasses import replace

    from koeeo_match.model import Pairs
    from koeeo_match.solvers._auto_search import improve
    from koeeo_match.solvers.greedy import greedy_from

    p = km.synth.france(scale=0.002, seed=3, rules="all", multi_day_share=0.3)
    g = km.build_candidates(p, "max_hours")
    some = greedy_from(p, g).selected[::7]
    p = replace(p, forced=Pairs(g.employee[some], g.mission[some], np.zeros(some.size)))
    start = greedy_from(p, g).selected
    sel = improve(p, g, start, time.monotonic() + 120, window=400, rounds=1)
    pairs = [(p.employees.ids[e], p.missions.ids[m]) for e, m in zip(g.employee[sel], g.mission[sel])]
    assert km.check(p, pairs) == []
    assert set(some.tolist()) <= set(sel.tolist())
    assert int(g.score[sel].sum()) >= int(g.score[start].sum())


def test_hours_bound_by_component_equals_one_network(monkeypatch):
    """hours_relaxation_bound solves components apart above flow.PART_ARCS: the same bound
    (each part rounds up, so at most a few units more), still above a feasible solution."""
    from koeeo_match.solvers import flow
    from koeeo_match.solvers.greedy import greedy_from

    p = km.synth.france(scale=0.002, seed=2, rules="all", multi_day_share=0.3)
    g = km.build_candidates(p, "max_hours")
    whole = flow.hours_relaxation_bound(p, g)
    monkeypatch.setattr(flow, "PART_ARCS", 200)
    parts = flow.hours_relaxation_bound(p, g)
    n_comp = flow.components(g.n_employees, g.n_missions, g.employee, g.mission)[0]
    assert n_comp > 10
    assert whole <= parts <= whole + n_comp
    assert parts >= int(g.score[greedy_from(p, g).selected].sum())
