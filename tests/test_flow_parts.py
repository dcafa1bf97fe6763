"""Solving the flow network by parts (connected components packed into parts) is exact."""

from __future__ import annotations

import numpy as np
import pytest

import koeeo_match as km
from koeeo_match.solvers import flow as F
from koeeo_match.solvers._base import SolveOptions
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
