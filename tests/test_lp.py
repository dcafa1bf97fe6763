"""The LP relaxation bound (solvers/lp.py): an upper bound on every feasible assignment (brute
force), never looser than the hours-flow bound, and tighter on team missions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match.solvers.flow import hours_relaxation_bound
from koeeo_match.solvers.lp import lp_relaxation

from conftest import brute_force, eligible_pairs, make
from test_properties import MAX_PAIRS, SETTINGS, problems


@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
@settings(max_examples=60, **SETTINGS)
@given(records=problems())
def test_lp_bound_is_above_the_brute_force_optimum(records, policy):
    p = make(**records)
    assume(len(eligible_pairs(p)) <= MAX_PAIRS)
    g = km.build_candidates(p, policy)
    best = brute_force(p, policy, max_pairs=MAX_PAIRS)
    bound, x = lp_relaxation(p, g)
    if best.pairs is None:  # no feasible assignment (forced pairs): the LP may still be feasible
        return
    assert bound is not None and x is not None
    assert ((x >= 0) & (x <= 1)).all()
    pol = km.Policy.parse(policy)
    read = g.scale.primary_bound(bound)
    target = best.primary if pol.primary else best.secondary
    assert target <= read + 1e-6, (target, read)
    hb = hours_relaxation_bound(p, g)
    if hb is not None and not len(p.forced):
        # the LP has every constraint of the hours flow; up to its margin, and for a lexicographic
        # policy one unit of the primary objective (the secondary terms are bounded apart)
        hb_read = g.scale.primary_bound(hb)
        assert read <= hb_read + 1e-5 * abs(hb_read) + 1e-6 + (1 / g.scale.primary_scale if pol.primary else 0)


def test_team_links_tighten_the_bound():
    """Six volunteers, a team of minimum 4 and 4 seats that only two of them can join: the hours
    flow counts one of them on the team, the LP (x <= y, sum x >= 4 y) does not, and CP-SAT agrees."""
    employees = [{"id": f"e{i}", "hours": 7.0, "skills": {"it": 2}} for i in range(6)]
    for e in employees[:4]:
        e["max_km"] = 0.0  # cannot travel
        e["lat"] = 46.0
    missions = [{"id": "team", "hours": 7.0, "seats": 4, "min_seats": 4, "skills": {"it": 1}},
                {"id": "solo", "hours": 7.0, "seats": 1, "skills": {"it": 1}}]
    p = make(employees=employees, missions=missions)
    g = km.build_candidates(p, "max_hours")
    bound, _ = lp_relaxation(p, g)
    hb = hours_relaxation_bound(p, g)
    best = km.solve(p, method="cpsat")
    assert best.status == km.Status.OPTIMAL and best.objective == 7.0
    assert g.scale.primary_bound(bound) == 7.0 < g.scale.primary_bound(hb) == 14.0


def test_lp_by_chunks_is_a_bound_and_as_tight(monkeypatch):
    """Above LP_PART_ARCS the LP is solved per component: still a bound (above a feasible
    solution), as tight up to the rounding of each chunk's bound."""
    import koeeo_match.solvers.lp as lp

    p = km.synth.france(scale=0.002, seed=3, rules="all", multi_day_share=0.2)
    g = km.build_candidates(p, "max_hours", k=5)
    whole, _ = lp_relaxation(p, g)
    monkeypatch.setattr(lp, "LP_PART_ARCS", 50)
    parts, _ = lp_relaxation(p, g)
    feasible = km.solve(p, method="auto", top_k=5, time_limit=5)
    assert km.check(p, feasible) == []
    assert feasible.objective <= g.scale.primary_bound(parts)
    assert g.scale.primary_bound(parts) == pytest.approx(g.scale.primary_bound(whole), rel=1e-3)


@pytest.mark.parametrize("step", ["_objective", "_add_constraints", "matrix"])
def test_ctrl_c_during_the_lp_set_up_stops_it_before_highs(step, monkeypatch):
    """The LP's set-up (its objective, its rows, its matrix: about a second each at 5 M arcs) ran to
    the end after a Ctrl-C, then HiGHS was stopped at once: a Ctrl-C 10 s into ``auto`` on 5 M
    arcs answered in 1.7-4.8 s.  Ctrl-C is now asked between the steps, and HiGHS never starts."""
    from koeeo_match.solvers import lp
    from koeeo_match.solvers._auto_clock import INTERRUPTED, CtrlC

    p = km.synth.city(employees=300, seed=2, rules="all")
    g = km.build_candidates(p, "max_hours")
    owner = lp._Rows if step == "matrix" else lp
    real = getattr(owner, step)

    def then_ctrl_c(*args, **kwargs):
        out = real(*args, **kwargs)
        INTERRUPTED.set()  # what the handler does on SIGINT
        return out

    def never(*args, **kwargs):
        raise AssertionError("HiGHS started after Ctrl-C")

    monkeypatch.setattr(owner, step, then_ctrl_c)
    monkeypatch.setattr(lp, "linprog", never)
    with CtrlC():
        assert lp.lp_relaxation(p, g) == (None, None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 6)), min_size=1, max_size=40),
       st.lists(st.integers(0, 10), min_size=6, max_size=6), st.booleans())
def test_each_employees_best_values_summed_by_rounds_or_by_a_sort(items, caps, shuffled):
    """``_top_sum`` takes each employee's k best by segment maxima (ties included) when the values
    come in employee order and k is small, by a sort otherwise: both are the brute force's sum."""
    from koeeo_match.solvers import lp

    if not shuffled:
        items = sorted(items, key=lambda t: t[0])
    e = np.array([i for i, _ in items])
    v = np.array([x for _, x in items], np.int64)
    k = np.array(caps)
    want = sum(sum(sorted((x for i, x in items if i == j), reverse=True)[: k[j]]) for j in set(e.tolist()))
    assert lp._top_sum(e, v, k) == want


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9)), min_size=1, max_size=30),
       st.lists(st.integers(0, 25), min_size=5, max_size=5), st.booleans())
def test_how_many_items_fit_by_classes_or_by_a_sort(items, budgets, by_sort):
    """``fitting_counts`` (each employee's missions that fit its hours, shortest first and longest
    first: the flow's capacities) counts by size class, or sorts when the classes are many: both
    are the brute force's counts."""
    from koeeo_match import _arrays

    g = np.array([i for i, _ in items])
    size = np.array([x for _, x in items], np.int64)
    budget = np.array(budgets, np.int64)

    def brute(desc: bool) -> list[int]:
        out = []
        for j in range(budget.size):
            used = n = 0
            for x in sorted((x for i, x in items if i == j), reverse=desc):
                used += x
                n += used <= budget[j]
            out.append(n)
        return out

    old = _arrays.SIZE_CLASSES
    _arrays.SIZE_CLASSES = -1 if by_sort else old
    try:
        small, large = _arrays.fitting_counts(g, size, budget)
    finally:
        _arrays.SIZE_CLASSES = old
    assert small.tolist() == brute(False) and large.tolist() == brute(True)
