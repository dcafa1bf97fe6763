"""The min-cost flow solvers (:mod:`koeeo_match.solvers._mcf`): LEMON's network simplex and
OR-Tools' cost scaling give flows of the same optimal cost, checked here independently
(conservation, capacities, cost) and against each other, and a whole solve does not depend on
which one ran."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match.solvers import _mcf

lemon = pytest.mark.skipif(not _mcf.HAS_LEMON, reason="pylmcf (the 'fast' extra) is not installed")


def _network(seed: int, n_left: int, n_right: int, n_arcs: int, with_layer: bool, costs: str = "ties"):
    """A layered network as koeeo_match builds them: source 0 -> left nodes (capacity 1-3)
    [-> a layer node] -> right nodes (arcs of capacity 1, costs of either sign, ties on purpose)
    -> sink 1 (seats 1-3).  ``costs``: ``"ties"`` (few distinct values), ``"small"`` (-1 to 1)
    or ``"zero"`` (every path costs the same: a bypass that is not dearer than every augmenting
    path would be used)."""
    rng = np.random.default_rng(seed)
    L = 2 + np.arange(n_left)
    R = 2 + n_left + np.arange(n_right)
    t = [np.zeros(n_left, np.int64)]
    h = [L]
    c = [rng.integers(1, 4, n_left)]
    w = [np.zeros(n_left, np.int64)]
    left = rng.choice(L, n_arcs)
    if with_layer:  # an [employee, date]-like node in front of half the left nodes
        lay = 2 + n_left + n_right + np.arange(n_left)
        t.append(L)
        h.append(lay)
        c.append(np.ones(n_left, np.int64))
        w.append(np.zeros(n_left, np.int64))
        use = rng.random(n_arcs) < 0.5
        left = np.where(use, lay[left - 2], left)
    t.append(left)
    h.append(rng.choice(R, n_arcs))
    c.append(np.ones(n_arcs, np.int64))
    w.append({"ties": rng.integers(-6, 3, n_arcs) * 1000, "small": rng.integers(-1, 2, n_arcs),
              "zero": np.zeros(n_arcs, np.int64)}[costs])
    t.append(R)
    h.append(np.ones(n_right, np.int64))
    c.append(rng.integers(1, 4, n_right))
    w.append(np.zeros(n_right, np.int64))
    t, h, c, w = (np.concatenate(x).astype(np.int64) for x in (t, h, c, w))
    total = int(c[:n_left].sum())  # what koeeo_match ships; less, at times, to test the contract
    return t, h, c, w, total if rng.random() < 0.7 else int(rng.integers(0, total + 1))


def _check_flow(t, h, c, w, supply, f, cost):
    """Independent checks of a returned flow: bounds, conservation, its cost, the flow value."""
    assert f.shape == t.shape and (f >= 0).all() and (f <= c).all()
    n = int(max(t.max(), h.max())) + 1
    net = np.bincount(t, weights=f, minlength=n) - np.bincount(h, weights=f, minlength=n)
    shipped = net[0]
    assert (net[2:] == 0).all() and 0 <= shipped <= supply and net[1] == -shipped
    assert int((f * w).sum()) == cost
    return int(shipped)


@lemon
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n_left=st.integers(1, 12), n_right=st.integers(1, 12),
       n_arcs=st.integers(1, 60), with_layer=st.booleans(), by_max_flow=st.booleans(),
       costs=st.sampled_from(["ties", "small", "zero"]))
def test_lemon_and_ortools_agree(seed, n_left, n_right, n_arcs, with_layer, by_max_flow, costs):
    t, h, c, w, supply = _network(seed, n_left, n_right, n_arcs, with_layer, costs)
    f_l, cost_l = _mcf._lemon(t, h, c, w, supply, by_max_flow)
    f_o, cost_o = _mcf._ortools(t, h, c, w, supply, by_max_flow)
    assert cost_l == cost_o
    shipped_l = _check_flow(t, h, c, w, supply, f_l, cost_l)
    shipped_o = _check_flow(t, h, c, w, supply, f_o, cost_o)
    if by_max_flow:  # a maximum flow, then its least cost
        assert shipped_l == shipped_o


def _counted(monkeypatch, name: str) -> list:
    """Count the calls of ``_mcf.<name>`` (in this process) in the list returned."""
    calls: list = []
    real = getattr(_mcf, name)

    def counted(*a):
        calls.append(1)
        return real(*a)

    monkeypatch.setattr(_mcf, name, counted)
    return calls


@lemon
def test_large_networks_and_costs_that_could_overflow_go_to_ortools(monkeypatch):
    t, h, c, w, supply = _network(0, 5, 5, 20, True)
    real = _mcf._ortools
    calls = _counted(monkeypatch, "_ortools")
    _mcf.min_cost_flow(t, h, c, w, supply, True)
    assert not calls  # small, cheap: LEMON
    monkeypatch.setattr(_mcf, "_COST_LIMIT", 1.0)  # as if the total cost could overflow int64
    f, cost = _mcf.min_cost_flow(t, h, c, w, supply, True)
    assert len(calls) == 1 and cost == real(t, h, c, w, supply, True)[1]
    monkeypatch.setattr(_mcf, "_COST_LIMIT", 2.0**62)
    monkeypatch.setattr(_mcf, "LEMON_MAX_ARCS", t.size - 1)
    _mcf.min_cost_flow(t, h, c, w, supply, True)
    assert len(calls) == 2


@lemon
@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
def test_a_solve_has_the_same_optimum_whichever_solver_ran(policy, monkeypatch):
    p = km.synth.france(scale=0.002, seed=3, rules="flow", multi_day_share=0.3)
    calls = _counted(monkeypatch, "_lemon")
    with_lemon = {m: km.solve(p, method=m, policy=policy) for m in ("flow", "auto")}
    assert calls  # LEMON ran
    monkeypatch.setattr(_mcf, "HAS_LEMON", False)
    n = len(calls)
    without = {m: km.solve(p, method=m, policy=policy) for m in ("flow", "auto")}
    assert len(calls) == n  # and now it did not
    for m in with_lemon:
        assert with_lemon[m].objective == pytest.approx(without[m].objective)
        assert with_lemon[m].status == without[m].status == km.Status.OPTIMAL
        assert km.check(p, with_lemon[m]) == []


@pytest.mark.parametrize("by_max_flow", [True, False])
@pytest.mark.parametrize("solver", ["_lemon", "_ortools"])
def test_networks_that_ship_nothing(solver, by_max_flow):
    if solver == "_lemon" and not _mcf.HAS_LEMON:
        pytest.skip("pylmcf is not installed")
    fn = getattr(_mcf, solver)
    e = np.zeros(0, np.int64)
    f, cost = fn(e, e, e, e, 3, by_max_flow)
    assert f.size == 0 and cost == 0
    # a dead end: the source reaches node 2, which reaches nothing
    f, cost = fn(np.array([0]), np.array([2]), np.array([1]), np.array([-3]), 1, by_max_flow)
    assert f.tolist() == [0] and cost == 0
