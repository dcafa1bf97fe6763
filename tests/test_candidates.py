"""The capped candidate graph (``k``): what it keeps, checked against the full graph.

A capped graph is a subset of the full (exact) graph with the same distances; its arcs stay
inside a département block (a block without the other side draws from everywhere); each arc
is among the k best of its employee or of its mission; it is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

import koeeo_match as km
from koeeo_match.territory import departement_of


@pytest.fixture(scope="module")
def bretagne():
    return km.synth.region("Bretagne", employees=2500, seed=1, rules="flow")


def _keys(g):
    return g.employee.astype(np.int64) * g.n_missions + g.mission


@pytest.mark.parametrize("k", [2, 5])
def test_capped_is_a_subset_of_the_full_graph_with_the_same_km(bretagne, k):
    full = km.build_candidates(bretagne, "max_hours")
    cap = km.build_candidates(bretagne, "max_hours", k=k)
    assert 0 < len(cap) < len(full)
    pos = np.searchsorted(_keys(full), _keys(cap))
    assert (_keys(full)[pos] == _keys(cap)).all()
    assert np.array_equal(full.km[pos], cap.km)
    # sorted by employee then mission, no duplicate
    assert (np.diff(_keys(cap)) > 0).all()


def test_capped_arcs_stay_in_their_departement(bretagne):
    p = bretagne
    cap = km.build_candidates(p, "max_hours", k=5)
    de = departement_of(p.employees.lat, p.employees.lon, max_km=1_000.0)
    dm = departement_of(p.missions.lat, p.missions.lon, max_km=1_000.0)
    shared = np.intersect1d(de, dm)  # blocks with both sides (the others draw from everywhere)
    assert len(shared) >= 4  # the four départements of Bretagne
    inside = np.isin(de[cap.employee], shared) & np.isin(dm[cap.mission], shared)
    assert inside.mean() > 0.99
    assert (de[cap.employee] == dm[cap.mission])[inside].all()
    # and the full graph does cross them: the restriction is the blocks', not the data's
    full = km.build_candidates(p, "max_hours")
    assert (de[full.employee] != dm[full.mission]).any()


@pytest.mark.parametrize("k", [1, 3])
def test_each_kept_arc_is_among_the_k_best_of_its_employee_or_of_its_mission(bretagne, k):
    cap = km.build_candidates(bretagne, "min_travel", k=k)
    s = cap.score.astype(np.float64)
    tol = 1e-4 * (s.max() - s.min())

    def kth_best(owner, n):
        order = np.lexsort((-s, owner))
        o = owner[order]
        start = np.searchsorted(o, np.arange(n))
        count = np.bincount(owner, minlength=n)
        kth = np.full(n, -np.inf)
        has = count > 0
        kth[has] = s[order][start[has] + np.minimum(count[has], k) - 1]
        return kth

    by_employee = s >= kth_best(cap.employee, cap.n_employees)[cap.employee] - tol
    by_mission = s >= kth_best(cap.mission, cap.n_missions)[cap.mission] - tol
    assert (by_employee | by_mission).all()
    # the cap binds: without it employees would have more arcs than k
    assert np.bincount(cap.employee).max() > k


def test_a_block_without_missions_draws_from_everywhere():
    # Lyon's employees have no mission in their département: the remote mission in Paris
    # is still theirs (remote_ok), and Paris's employee keeps the local one.
    p = km.Problem.from_records(
        associations=[{"id": "a", "lat": 48.86, "lon": 2.35}],
        employees=[{"id": "paris", "lat": 48.85, "lon": 2.34},
                   {"id": "lyon1", "lat": 45.76, "lon": 4.84, "remote_ok": True},
                   {"id": "lyon2", "lat": 45.75, "lon": 4.85}],
        missions=[{"id": "local", "association": "a", "seats": 2},
                  {"id": "remote", "association": "a", "remote": True, "seats": 2}],
    )
    full = km.build_candidates(p, "max_hours")
    cap = km.build_candidates(p, "max_hours", k=3)
    pairs = lambda g: {(p.employees.ids[e], p.missions.ids[m]) for e, m in zip(g.employee, g.mission)}  # noqa: E731
    assert pairs(cap) == pairs(full) == {("paris", "local"), ("paris", "remote"), ("lyon1", "remote")}


def test_capped_graph_is_deterministic(bretagne):
    a = km.build_candidates(bretagne, "balanced", k=4)
    b = km.build_candidates(km.synth.region("Bretagne", employees=2500, seed=1, rules="flow"), "balanced", k=4)
    for f in ("employee", "mission", "km", "score"):
        assert np.array_equal(getattr(a, f), getattr(b, f))


def test_score_bounds_of_a_problem_without_missions():
    """A mission-level term on a problem with no mission (a reduced problem whose seats are all taken)
    was a KeyError."""
    from koeeo_match.candidates import problem_scale, score_bounds

    p = km.Problem.from_records(associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
                                employees=[{"id": "e", "lat": 45.0, "lon": 5.0}], missions=[])
    for name in ("max_hours", "territorial_equity", "balanced"):
        pol = km.Policy.preset(name)
        b = score_bounds(p, pol, problem_scale(p, pol, max_arcs=10))
        assert b.mission.size == 0 and b.employee.size == 1


def test_scan_batches_join_pieces_and_yield_at_once_when_halted(monkeypatch):
    from koeeo_match.candidates import _scan

    monkeypatch.setattr(_scan, "_BATCH", 5)
    piece = (np.arange(2), np.arange(2), np.zeros(2))
    empty = (np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    got = list(_scan._batched(iter([piece, empty, piece, piece, piece]), lambda: False))
    assert [g[0].size for g in got] == [6, 2]  # joined up to the batch, the rest at the end
    asked = []

    def halted():
        asked.append(1)
        return len(asked) >= 2

    gen = _scan._batched(iter([empty, empty, piece, piece]), halted)
    first = next(gen)
    assert first[0].size == 0 and len(asked) == 2  # the second (empty) piece: yielded at once


def test_a_policy_of_zero_weights_caps_and_prices_without_error(bretagne):
    """Every weight 0 is legal (a warning): the capped graph keeps arcs (all tied), and a solve on
    it, or by pricing, is the empty assignment (it was a ValueError in the cap's ranking)."""
    zero = km.Policy()
    cap = km.build_candidates(bretagne, zero, k=2)
    assert len(cap) > 0
    with pytest.warns(km.KoeeoMatchWarning, match="weight 0"):
        sol = km.solve(bretagne, policy=zero, top_k=2)
    assert sol.objective == 0 and not sol.assignments
    from koeeo_match.solvers._base import SolveOptions
    from koeeo_match.solvers.priced import solve_priced

    _, res = solve_priced(bretagne, zero, SolveOptions(), start_k=1)
    assert res.status.value == "optimal" and res.selected.size == 0
