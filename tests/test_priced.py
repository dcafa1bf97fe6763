"""The priced route (solvers.priced): exact min-cost flow over the implicit eligibility graph.

Checked against brute force, against the full graph's optimum from any start (the arcs of the
optimum planted outside the start graph included), and piece by piece: the pricing scan
returns exactly the arcs that beat given prices, the score bounds hold for every arc, and the
potentials certify a flow only when it is optimal."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
import koeeo_match.engine as engine
from koeeo_match.candidates import arc_terms, free_pairs, priced_pairs, problem_scale, score_bounds
from koeeo_match.candidates._bounds import employee_bounds
from koeeo_match.errors import SolverError
from koeeo_match.solvers import SolveOptions
from koeeo_match.solvers._potentials import potentials
from koeeo_match.solvers.priced import PARTIAL_K, START_K, priced_obstacles, solve_priced

from conftest import brute_force, eligible_pairs
from test_properties import MAX_PAIRS, SETTINGS, problems, small

POLICIES = ["max_hours", "balanced", "min_travel", "max_coverage"]


def priced(problem, policy="max_hours", **kw):
    """(graph, raw result) of the priced route."""
    return solve_priced(problem, km.Policy.parse(policy), SolveOptions(**kw.pop("options", {})), **kw)


def objective(graph, raw):
    return float(graph.policy.score({t: graph.terms[t][raw.selected] for t, w in graph.policy.weights().items() if w},
                                    "primary" if graph.scale.lexicographic else "all").sum())


def flow_friendly(records):
    problem = km.Problem.from_records(**records)
    assume(not priced_obstacles(problem))
    return problem


# ----------------------------------------------------------------------------- against brute force
@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
@settings(max_examples=60, **SETTINGS)
@given(records=problems(flow_friendly=True))
def test_priced_reaches_brute_force(records, policy):
    problem = small(records)
    assume(not priced_obstacles(problem))
    sol = engine.priced_solution(problem, km.Policy.parse(policy), "flow", SolveOptions())
    best = brute_force(problem, policy, max_pairs=MAX_PAIRS)
    target = best.primary if km.Policy.parse(policy).primary else best.secondary
    assert sol.status == km.Status.OPTIMAL and sol.metrics["pricing"]["certified"]
    assert km.check(problem, sol) == []
    assert sol.objective == pytest.approx(target, rel=1e-6, abs=1e-6), (best, sol.assignments)


# ----------------------------------------------------------------------------- from any start
@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=40, **SETTINGS)
@given(records=problems(flow_friendly=True), data=st.data())
def test_priced_optimum_does_not_depend_on_the_start(records, policy, data):
    """From every eligible arc, from none, and from a random subset, the same integer optimum."""
    problem = flow_friendly(records)
    pairs = eligible_pairs(problem)
    assume(pairs)
    ea, ma = (np.array(x, np.int64) for x in zip(*pairs))
    full_g, full = priced(problem, policy, start=(ea, ma))
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs))), bool)
    for start in ((ea[keep], ma[keep]), (ea[:0], ma[:0])):
        g, res = priced(problem, policy, start=start, add_per_node=data.draw(st.sampled_from([1, 10])),
                        partial_k=data.draw(st.sampled_from([0, 1, 3])),
                        remote_cap=data.draw(st.sampled_from([None, 1])))
        assert res.status == km.Status.OPTIMAL
        assert int(g.score[res.selected].sum()) == int(full_g.score[full.selected].sum())


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_optimal_arcs_outside_the_start_are_found(seed, policy):
    """Every arc of a full-graph optimum is left out of the start graph: pricing finds an
    optimum of the same value anyway (and km.solve(method="flow") on the full graph agrees)."""
    p = km.synth.city(employees=150, seed=seed, rules="flow")
    pol = km.Policy.parse(policy)
    full_pairs = km.build_candidates(p, pol)
    g0, res0 = priced(p, policy, start=(full_pairs.employee, full_pairs.mission))
    opt = set(zip(g0.employee[res0.selected].tolist(), g0.mission[res0.selected].tolist()))
    keep = np.array([(e, m) not in opt for e, m in zip(full_pairs.employee.tolist(), full_pairs.mission.tolist())])
    g, res = priced(p, policy, start=(full_pairs.employee[keep], full_pairs.mission[keep]), add_per_node=2)
    assert res.status == km.Status.OPTIMAL
    assert int(g.score[res.selected].sum()) == int(g0.score[res0.selected].sum())
    if pol.primary:  # lexicographic: the primary objective is exact on any scale
        assert objective(g, res) == km.solve(p, method="flow", policy=policy).objective


@pytest.mark.parametrize("seed", range(4))
def test_priced_equals_the_full_graph_flow_on_mid_instances(seed):
    p = km.synth.city(employees=400 + 100 * seed, seed=seed, rules="flow")
    g, res = priced(p, start_k=1 + seed % 2)
    full = km.solve(p, method="flow")
    assert res.status == km.Status.OPTIMAL
    assert objective(g, res) == full.objective
    assert res.stats["pricing"]["arcs_materialised"] <= len(km.build_candidates(p, "max_hours"))


def test_a_start_graph_in_a_list_is_taken_out_of_it():
    # the pipeline hands its start graph over in a list, so as not to hold it while pricing runs
    p = km.synth.city(employees=300, seed=2, rules="flow")
    pol = km.Policy.preset("max_hours")
    start = engine.start_pairs(p, pol, k=2)
    box = [start]
    g, res = solve_priced(p, pol, SolveOptions(), start=box)
    assert box == []
    g0, res0 = solve_priced(p, pol, SolveOptions(), start=start)
    assert res.status == res0.status == km.Status.OPTIMAL
    assert objective(g, res) == objective(g0, res0)
    arrays = list(start)  # a list of the three arrays is the start graph itself, as a tuple is
    g1, res1 = solve_priced(p, pol, SolveOptions(), start=arrays)
    assert len(arrays) == 3 and objective(g1, res1) == objective(g0, res0)


# ----------------------------------------------------------------------------- the pieces
@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=40, **SETTINGS)
@given(records=problems(flow_friendly=True), data=st.data())
def test_scan_returns_exactly_the_arcs_beating_the_prices(records, policy, data):
    problem = flow_friendly(records)
    pol = km.Policy.parse(policy)
    E, M = problem.n_employees, problem.n_missions
    scale = problem_scale(problem, pol, max_arcs=1000)
    g = km.build_candidates(problem, pol)
    s = scale.apply(pol, {t: g.terms[t] for t, w in pol.weights().items() if w})
    # prices near the scores (each employee's best arc minus its mission's price, give or take a
    # fraction of the secondary unit): where the distance decides whether a pair beats them
    top = int(np.abs(s).max(initial=1))
    v = np.array(data.draw(st.lists(st.sampled_from([0, 0, top // 2, top]), min_size=M, max_size=M)), np.int64)
    step = max(1, int(scale.secondary_scale * 0.1))
    shift = np.array(data.draw(st.lists(st.integers(-6, 6), min_size=E, max_size=E)), np.int64) * step
    best = np.full(E, 0, np.int64)
    np.maximum.at(best, g.employee, s - v[g.mission])
    y = np.maximum(best + shift, 0)
    se = np.array(data.draw(st.lists(st.booleans(), min_size=E, max_size=E)), bool)
    sm = np.array(data.draw(st.lists(st.booleans(), min_size=M, max_size=M)), bool)
    ea, ma, d, sc, stats = priced_pairs(problem, pol, scale, score_bounds(problem, pol, scale), y, v, se, sm)
    want = (s > y[g.employee] + v[g.mission]) & (se[g.employee] | sm[g.mission])
    assert sorted(zip(ea.tolist(), ma.tolist())) == sorted(zip(g.employee[want].tolist(), g.mission[want].tolist()))
    by_pair = dict(zip(zip(g.employee.tolist(), g.mission.tolist()), s.tolist()))
    assert [by_pair[x] for x in zip(ea.tolist(), ma.tolist())] == sc.tolist()
    assert stats.complete and stats.arcs_priced == int(want.sum()) and stats.cut.size == 0
    # capped (partial pricing of remote missions): a part of them, and every pair left out is a
    # remote mission's that the scan says it cut short
    cap = data.draw(st.sampled_from([1, 2]))
    ca, cm, _, csc, cst = priced_pairs(problem, pol, scale, score_bounds(problem, pol, scale), y, v, se, sm, cap=cap)
    got = set(zip(ca.tolist(), cm.tolist()))
    assert got <= set(zip(ea.tolist(), ma.tolist()))
    assert [by_pair[x] for x in zip(ca.tolist(), cm.tolist())] == csc.tolist()
    left = {(a, b) for a, b in zip(ea.tolist(), ma.tolist())} - got
    assert {b for _, b in left} <= set(cst.cut.tolist()) <= set(np.flatnonzero(problem.missions.remote).tolist())


def test_scan_queries_sized_by_density_draw_the_same_arcs(monkeypatch):
    """A national scan drew several gigabytes in one KD-tree query (100,000 employees, whatever they
    reached): a band's queries are now sized to about ``_QUERY_PAIRS`` pairs.  Sized down, the scan
    makes more and smaller queries and finds exactly the same arcs (at zero prices: every arc)."""
    from koeeo_match.candidates import _scan

    p = km.synth.city(employees=600, seed=2, rules="flow")
    pol = km.Policy.preset("max_hours")
    scale = problem_scale(p, pol, max_arcs=10**6)
    E, M = p.n_employees, p.n_missions
    args = (p, pol, scale, score_bounds(p, pol, scale), np.zeros(E, np.int64), np.zeros(M, np.int64),
            np.ones(E, bool), np.ones(M, bool))
    queries: list[int] = []

    class Counted(_scan.cKDTree):  # the pairs each query draws, counted
        def sparse_distance_matrix(self, *a, **k):
            out = super().sparse_distance_matrix(*a, **k)
            queries.append(out.size)
            return out

    monkeypatch.setattr(_scan, "cKDTree", Counted)
    whole = priced_pairs(*args)
    default, queries[:] = list(queries), []
    monkeypatch.setattr(_scan, "_QUERY_PAIRS", 20)
    monkeypatch.setattr(_scan, "_MIN_CHUNK", 1)
    small = priced_pairs(*args)
    assert len(whole[0]) == len(km.build_candidates(p, pol)) > 0
    for a, b in zip(whole[:4], small[:4]):
        assert np.array_equal(a, b)
    assert len(queries) > 2 * len(default) and max(queries) < max(default) / 2, (len(default), max(default))


@st.composite
def policies(draw):
    terms = ["hours", "seats", "skill_fit", "preference", "priority", "travel_km", "co2_kg", "small_association",
             "rural", "affinity"]
    w = {t: draw(st.sampled_from([0.0, 0.0, 0.01, 0.5, 1.0, 3.0])) for t in terms}
    w["hours"] = max(w["hours"], 0.5)
    gains = [t for t in ("hours", "seats", "priority") if w[t]]
    primary = draw(st.sampled_from([(), tuple(gains[:1])]))
    return km.Policy(**w, primary=primary)


@settings(max_examples=60, **SETTINGS)
@given(records=problems(flow_friendly=True), pol=policies())
def test_score_bounds_hold_for_every_arc(records, pol):
    problem = km.Problem.from_records(**records)
    g = km.build_candidates(problem, pol)
    scale = problem_scale(problem, pol, max_arcs=10_000)
    s = scale.apply(pol, arc_terms(problem, g.employee, g.mission, g.km))
    b = score_bounds(problem, pol, scale)
    km_ = np.where(problem.missions.remote[g.mission], 0, g.km)
    ub = b.mission[g.mission] + b.employee[g.employee] - b.per_km * km_
    assert (s <= ub + 1e-9 * np.abs(ub) + 1e-6).all()
    # with each arc's exact skill_fit in place of its bound 1 (what the scan of remote missions uses)
    fit = arc_terms(problem, g.employee, g.mission, g.km, ["skill_fit"])["skill_fit"]
    ub_fit = b.mission[g.mission] + employee_bounds(problem, pol, scale, g.employee, fit) - b.per_km * km_
    assert (s <= ub_fit + 1e-9 * np.abs(ub_fit) + 1e-6).all()
    assert (ub_fit <= ub + 1e-9 * np.abs(ub)).all()
    if pol.primary:  # the primary values are the exact integers of the policy's primary terms
        prim = pol.score({t: g.terms[t] for t in pol.primary}, "primary")
        assert (scale.primary(s) == np.round(prim * scale.primary_scale)).all()


def test_potentials_refuse_a_negative_cycle():
    with pytest.raises(SolverError, match="negative cycle"):
        potentials(2, np.array([0, 1]), np.array([1, 0]), np.array([-1, 0]))
    assert potentials(2, np.array([0, 1]), np.array([1, 0]), np.array([-1, 0]), max_passes=10) is None


def test_potentials_give_up_when_stopped():
    """A deadline or Ctrl-C between passes ends the search that tries to keep a flow."""
    arcs = np.array([0, 1]), np.array([1, 2]), np.array([-2, 1])
    assert potentials(3, *arcs, max_passes=10).tolist() == [0, -2, -1]
    assert potentials(3, *arcs, max_passes=10, stop=lambda: True) is None


@settings(max_examples=60, **SETTINGS)
@given(records=problems(flow_friendly=True), data=st.data())
def test_a_flow_kept_on_a_grown_graph_is_optimal_for_it(records, data):
    """A round whose last flow is still optimal once arcs are added keeps it (no flow solved):
    the flow kept is worth the optimum of the grown graph, and a flow that is no longer optimal
    is solved again, from any subgraph to the whole graph."""
    from koeeo_match.solvers import _priced_flow as PF
    from koeeo_match.solvers.priced import capacity

    problem = flow_friendly(records)
    full = km.build_candidates(problem, "max_hours")
    assume(len(full) > 0)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full))), bool)
    k = capacity(problem)
    flow = PF.PricedFlow(problem, k, None, 1)
    sel, _, _ = flow.solve(full.subset(np.flatnonzero(keep)), None)
    chosen = np.zeros(len(full), bool)
    chosen[np.flatnonzero(keep)[sel]] = True
    grown, _, _ = flow.solve(full, chosen, added=0)  # 0: always try to keep the flow
    best, _, _ = PF.PricedFlow(problem, k, None, 1).solve(full, None)
    assert int(full.score[grown].sum()) == int(full.score[best].sum())
    assert flow.full_solves + flow.kept_flows == 2 and flow.last_kept == bool(flow.kept_flows)
    if flow.kept_flows:
        assert (grown == np.flatnonzero(chosen)).all()


def test_a_flow_stays_when_the_arcs_added_change_only_prices():
    """An arc added that no optimum needs keeps the last flow (counted in ``kept_flows``)."""
    from koeeo_match.solvers import _priced_flow as PF
    from koeeo_match.solvers.priced import capacity

    p = km.synth.city(employees=200, seed=3, rules="flow")
    full = km.build_candidates(p, "max_hours")
    k = capacity(p)
    flow = PF.PricedFlow(p, k, None, 1)
    sel, y, v = flow.solve(full, None)
    gain = full.score - y[full.employee] - v[full.mission]
    assert (gain <= 0).all()
    unused = np.setdiff1d(np.arange(len(full)), sel)
    drop = unused[np.argmax(gain[unused])]  # an arc no optimum needs once it is left out, nor when it returns
    sub = np.setdiff1d(np.arange(len(full)), [drop])
    flow2 = PF.PricedFlow(p, k, None, 1)
    sel2, _, _ = flow2.solve(full.subset(sub), None)
    chosen = np.zeros(len(full), bool)
    chosen[sub[sel2]] = True
    again, _, _ = flow2.solve(full, chosen, added=1)
    assert flow2.kept_flows == 1 and flow2.full_solves == 1 and flow2.last_kept
    assert int(full.score[again].sum()) == int(full.score[sel].sum())


# ----------------------------------------------------------------------------- through km.solve
@pytest.fixture
def priced_always(monkeypatch):
    monkeypatch.setattr(engine, "PRICED_MIN_ARCS", 0)


@pytest.mark.usefixtures("priced_always")
def test_solve_takes_the_priced_route_and_reports_it():
    p = km.synth.city(employees=300, seed=4, rules="flow")
    s = km.solve(p)
    full = engine.solve_graph(p, km.build_candidates(p, "max_hours"), "flow", SolveOptions())  # the full graph
    assert s.method == "auto:priced" and km.solve(p, method="flow").method == "flow"
    assert s.status == km.Status.OPTIMAL and s.bound == s.objective == full.objective
    assert km.check(p, s) == []
    pr = s.metrics["pricing"]
    assert pr["certified"] and pr["rounds"] == len(pr["per_round"]) >= 1
    assert s.metrics["candidate_arcs"] == pr["arcs_materialised"] <= full.metrics["candidate_arcs"]
    assert "pricing_round_seconds" not in s.to_dict()["metrics"]  # timings stay out of files
    assert km.solve(p).to_dict() == s.to_dict()  # deterministic


@pytest.mark.usefixtures("priced_always")
def test_rules_a_flow_cannot_honour_keep_the_usual_route():
    p = km.synth.city(employees=120, seed=0, rules="all")
    assert priced_obstacles(p)
    assert "priced" not in km.solve(p, time_limit=20).method
    with pytest.raises(km.UnsupportedError, match="priced flow cannot honour"):
        priced(p)


def test_a_time_limit_returns_a_feasible_solution_without_a_proof():
    """Out of time before the start graph: no proof, but a feasible answer and a bound for the
    whole problem (each employee's best possible score on each of its places)."""
    p = km.synth.city(employees=300, seed=0, rules="flow")
    sol = engine.priced_solution(p, km.Policy.preset("max_hours"), "flow", SolveOptions(time_limit=1e-6))
    assert sol.status == km.Status.FEASIBLE and sol.termination == km.Termination.TIME_LIMIT
    assert "before its first flow" in sol.message and "bound for the whole problem" in sol.message
    assert sol.bound is not None and sol.bound >= km.solve(p, method="flow").objective
    assert km.check(p, sol) == []


def test_the_worked_example_of_the_docs():
    """docs/solvers.md, "Exact at every scale: pricing": the start graph holds b-x only; round 1
    adds a-x, round 2 (b's price fell) adds b-y, round 3 certifies a-x and b-y."""
    p = km.Problem.from_records(
        employees=[{"id": "a", "lat": 45.0, "lon": 5.0, "max_km": 30},
                   {"id": "b", "lat": 45.5, "lon": 5.0, "max_km": 60}],
        missions=[{"id": "x", "association": "near"}, {"id": "y", "association": "far"}],
        associations=[{"id": "near", "lat": 45.25, "lon": 5.0}, {"id": "far", "lat": 46.0, "lon": 5.0}])
    g, res = solve_priced(p, km.Policy(seats=1), SolveOptions(), start=(np.array([1]), np.array([0])), add_per_node=1)
    rounds = res.stats["pricing"]["per_round"]
    assert [r["arcs"] for r in rounds] == [1, 2, 3]
    assert [r["arcs_added"] for r in rounds] == [1, 1, 0]
    assert [r["scanned_employees"] for r in rounds] == [2, 1, 0]
    assert sorted(zip(g.employee[res.selected].tolist(), g.mission[res.selected].tolist())) == [(0, 0), (1, 1)]
    assert res.status == km.Status.OPTIMAL


def test_ctrl_c_ends_pricing_with_the_best_flow_and_no_proof():
    """SIGINT after the first round (sent by the progress callback): the next check ends pricing."""
    import os
    import signal

    p = km.synth.city(employees=600, seed=2, rules="flow")

    def interrupt(line: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    sol = engine.priced_solution(p, km.Policy.preset("max_hours"), "flow", SolveOptions(progress=interrupt),
                                 start=(np.zeros(0, np.int64), np.zeros(0, np.int64)))
    assert sol.termination == km.Termination.INTERRUPTED and sol.status == km.Status.FEASIBLE
    assert sol.metrics["pricing"]["rounds"] == 1 and not sol.metrics["pricing"]["certified"]
    assert "Ctrl-C" in sol.message and "not proven" in sol.message
    assert sol.bound is not None and sol.bound >= km.solve(p, method="flow").objective
    assert km.check(p, sol) == []


def test_pricing_stops_when_the_next_round_would_not_fit():
    """With room for no arc beyond those held, pricing stops after its first round with the flow
    of the start graph: feasible, no proof, the message says why; nothing crashes."""
    from koeeo_match.solvers import priced as P

    p = km.synth.city(employees=400, seed=3, rules="flow")
    g0, first = priced(p, start_k=1, memory_bytes=float("inf"))
    start = P.start_pairs(p, km.Policy.preset("max_hours"), 1)
    tight = P._need(start[0].size, start[0].size)  # the start graph fits, not one arc more
    g, res = priced(p, start_k=1, memory_bytes=tight)
    assert res.status == km.Status.FEASIBLE
    assert res.bound is not None and res.bound >= int(g0.score[first.selected].sum())  # the whole problem's
    assert "memory" in res.message and res.stats["pricing"]["rounds"] == 1
    assert len(g) == start[0].size
    assert int(g.score[res.selected].sum()) <= int(g0.score[first.selected].sum())


@pytest.mark.parametrize("policy", POLICIES)
def test_scan_finds_the_remote_arcs_that_beat_the_prices_by_one_unit(policy):
    # prices one integer unit below each employee's best score: exactly the arcs at that score beat
    # them, and the bounds of remote missions (exact skill_fit per set of requirements) must keep them
    problem = km.synth.region("Bretagne", employees=1500, seed=3, rules="flow")
    assert problem.missions.remote.sum() > 20 and problem.employees.remote_ok.sum() > 100
    pol = km.Policy.parse(policy)
    E, M = problem.n_employees, problem.n_missions
    scale = problem_scale(problem, pol, max_arcs=0)
    g = km.build_candidates(problem, pol)
    s = scale.apply(pol, {t: g.terms[t] for t, w in pol.weights().items() if w})
    y = np.full(E, np.iinfo(np.int64).max // 4, np.int64)
    remote = problem.missions.remote[g.mission]
    best = np.full(E, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(best, g.employee[remote], s[remote])
    has = best > np.iinfo(np.int64).min
    y[has] = best[has] - 1
    v = np.zeros(M, np.int64)
    ea, ma, _, _, stats = priced_pairs(problem, pol, scale, score_bounds(problem, pol, scale), y, v,
                                       np.ones(E, bool), np.ones(M, bool))
    want = s > y[g.employee] + v[g.mission]
    assert want.sum() >= has.sum() > 50
    assert sorted(zip(ea.tolist(), ma.tolist())) == sorted(zip(g.employee[want].tolist(), g.mission[want].tolist()))
    assert stats.pairs_tested < 4 * len(g)  # the prices prune: not every pair is drawn
    # capped at one employee per remote mission: some are cut short, and scanning those again
    # whole finds the rest
    b = score_bounds(problem, pol, scale)
    ca, cm, _, _, cst = priced_pairs(problem, pol, scale, b, y, v, np.ones(E, bool), np.ones(M, bool), cap=1)
    assert cst.cut.size > 0 and ca.size < ea.size
    again = np.zeros(M, bool)
    again[cst.cut] = True
    ra, rm, _, _, rst = priced_pairs(problem, pol, scale, b, y, v, np.zeros(E, bool), again)
    assert rst.cut.size == 0
    assert set(zip(ca.tolist(), cm.tolist())) | set(zip(ra.tolist(), rm.tolist())) == set(zip(ea.tolist(), ma.tolist()))


@settings(max_examples=60, **SETTINGS)
@given(se=st.lists(st.integers(-20, 20), min_size=1, max_size=60), sm=st.lists(st.integers(-20, 20), min_size=1,
                                                                                  max_size=12),
       cap=st.integers(1, 5))
def test_a_capped_cross_product_draws_every_pair_of_the_missions_it_does_not_cut(se, sm, cap):
    """The remote scan's cross product (_by_price): uncapped, exactly the pairs with se + sm > 0;
    capped, every such pair of a mission it does not report cut short, and ``cap`` distinct pairs
    of those it does (only missions with over 4 * cap of them)."""
    from koeeo_match.candidates._scan import _by_price

    se_, sm_ = np.array(se, float), np.array(sm, float)
    emps, mis = np.arange(se_.size) + 100, np.arange(sm_.size) + 1000
    want = {(int(e), int(m)) for e, a in zip(emps, se_) for m, b in zip(mis, sm_) if a + b > 0}

    def drawn(c, cut):
        parts = list(_by_price(emps, mis, se_, sm_, c, cut))
        return [(int(e), int(m)) for a, b, _ in parts for e, m in zip(a, b)]

    assert sorted(drawn(None, None)) == sorted(want)
    cut: list[np.ndarray] = []
    got = drawn(cap, cut)
    cut_m = set(np.concatenate(cut).tolist()) if cut else set()
    assert len(got) == len(set(got)) and set(got) <= want
    per_m = {m: sum(1 for _, x in want if x == m) for m in mis.tolist()}
    assert cut_m == {m for m, n in per_m.items() if n > 4 * cap}
    for m, n in per_m.items():
        assert sum(1 for _, x in got if x == m) == (cap if m in cut_m else n)


@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=30, **SETTINGS)
@given(records=problems(flow_friendly=True), data=st.data())
def test_free_pairs_are_eligible_arcs_that_beat_the_prices(records, policy, data):
    """Partial pricing (candidates.free_pairs): arcs of the full graph between the nodes given,
    on the priced scale, each beating the prices."""
    problem = flow_friendly(records)
    pol = km.Policy.parse(policy)
    E, M = problem.n_employees, problem.n_missions
    scale = problem_scale(problem, pol, max_arcs=1000)
    g = km.build_candidates(problem, pol)
    s = scale.apply(pol, {t: g.terms[t] for t, w in pol.weights().items() if w})
    by_pair = dict(zip(zip(g.employee.tolist(), g.mission.tolist()), s.tolist()))
    emps = np.flatnonzero(np.array(data.draw(st.lists(st.booleans(), min_size=E, max_size=E)), bool))
    mis = np.flatnonzero(np.array(data.draw(st.lists(st.booleans(), min_size=M, max_size=M)), bool))
    y = np.array(data.draw(st.lists(st.sampled_from([0, 0, int(scale.secondary_scale)]), min_size=E, max_size=E)),
                 np.int64)
    v = np.zeros(M, np.int64)
    ea, ma, _, sc, st_ = free_pairs(problem, pol, scale, y, v, emps, mis, data.draw(st.sampled_from([1, 3])))
    assert set(ea.tolist()) <= set(emps.tolist()) and set(ma.tolist()) <= set(mis.tolist())
    assert [by_pair[x] for x in zip(ea.tolist(), ma.tolist())] == sc.tolist()  # eligible, the same score
    assert (sc > y[ea] + v[ma]).all() and st_.arcs_priced == ea.size <= st_.arcs_drawn
    assert len(set(zip(ea.tolist(), ma.tolist()))) == ea.size


def _partial_then_scan_problem() -> km.Problem:
    """Three employees, three one-seat missions, every assignment scoring 1, on a line of
    latitude: a reaches z only, c reaches x only, b reaches x and y.  From b-x, partial pricing
    pairs the free a and z; only a scan finds c-x (x is taken) and then b-y."""
    return km.Problem.from_records(
        employees=[{"id": "a", "lat": 44.6, "lon": 5.0, "max_km": 30},
                   {"id": "b", "lat": 45.5, "lon": 5.0, "max_km": 60},
                   {"id": "c", "lat": 45.2, "lon": 5.0, "max_km": 10}],
        missions=[{"id": "x", "association": "near"}, {"id": "y", "association": "far"},
                  {"id": "z", "association": "south"}],
        associations=[{"id": "near", "lat": 45.25, "lon": 5.0}, {"id": "far", "lat": 46.0, "lon": 5.0},
                      {"id": "south", "lat": 44.5, "lon": 5.0}])


def test_partial_pricing_never_certifies_what_only_a_scan_finds():
    """Round 1 adds the free pair a-z without a scan; round 2's free nodes (c, y) have no eligible
    pair, so it scans: c-x; round 3 scans again (b's price fell): b-y; round 4 certifies all three
    assignments, the full graph's optimum, as pricing without the partial step does."""
    p = _partial_then_scan_problem()
    start = (np.array([1]), np.array([0]))
    g, res = solve_priced(p, km.Policy(seats=1), SolveOptions(), start=start, add_per_node=1, partial_k=PARTIAL_K)
    rounds = res.stats["pricing"]["per_round"]
    assert [r["kind"] for r in rounds] == ["free", "full", "full", "full"]
    assert [r["arcs_added"] for r in rounds] == [1, 1, 1, 0]
    assert res.status == km.Status.OPTIMAL and res.stats["pricing"]["certified"]
    pairs = sorted(zip(g.employee[res.selected].tolist(), g.mission[res.selected].tolist()))
    assert pairs == [(0, 2), (1, 1), (2, 0)]
    assert len(pairs) == km.solve(p, method="flow", policy=km.Policy(seats=1)).objective
    g0, res0 = solve_priced(p, km.Policy(seats=1), SolveOptions(), start=start, add_per_node=1, partial_k=0)
    assert int(g0.score[res0.selected].sum()) == int(g.score[res.selected].sum())
    assert all(r["kind"] == "full" for r in res0.stats["pricing"]["per_round"])


# ----------------------------------------------------------------------------- every rule at scale
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_relaxation_bounds_the_every_rule_optimum_and_the_solution_keeps_every_rule(seed):
    p = km.synth.city(employees=250, seed=seed, rules="all")
    assert priced_obstacles(p)
    exact = km.solve(p, method="auto", seed=0)  # the full graph, every rule
    assert exact.status.value == "optimal"
    s = engine.relaxed_solution(p, km.Policy.preset("max_hours"), SolveOptions())
    assert km.check(p, s) == []
    assert s.bound is not None and s.bound >= exact.objective - 1e-9 >= s.objective - 1e-9
    assert s.metrics["relaxation_bound"] >= exact.objective - 1e-9
    assert s.metrics["pricing"]["certified"] and s.metrics["top_k"] is None
    if s.status.value == "optimal":
        assert s.objective == pytest.approx(exact.objective)
    else:
        assert s.gap == pytest.approx((s.bound - s.objective) / s.bound)


def test_solve_takes_the_relaxed_route_when_the_full_graph_does_not_fit():
    from koeeo_match.memory import bytes_per_arc

    p = km.synth.city(employees=1000, seed=0, rules="all")
    need = len(km.build_candidates(p, "max_hours")) * bytes_per_arc(p, "auto", None) / 2**30
    start = START_K * (p.n_employees + p.n_missions) * bytes_per_arc(p, "flow", START_K) / 2**30
    limit = need / 2
    assert limit > 2 * start
    assert engine.relaxed_route(p, "auto", None, limit) and not engine.relaxed_route(p, "auto", 5, limit)
    s = km.solve(p, memory_limit=limit)
    assert s.method.startswith("auto:relaxed+") and km.check(p, s) == []
    assert s.bound is not None and s.bound >= km.solve(p, method="auto").objective - 1e-9
    run = km.pipeline.run(p, memory_limit=limit, progress=None)
    assert run.solution is not None and run.solution.method.startswith("auto:relaxed+") and run.violations == 0
    assert run.solution.bound == s.bound
    with pytest.raises(km.InsufficientMemoryError):
        km.solve(p, method="cpsat", memory_limit=limit)


def test_the_relaxed_route_never_calls_an_infeasible_answer_optimal():
    # the relaxation drops the forced pair (out of reach, so no arc): its bound is 0, and the every-rule
    # solve cannot place the pair; an objective of 0 reaching a bound of 0 proves nothing then
    p = km.Problem.from_records(
        employees=[{"id": "e", "lat": 45.0, "lon": 5.0, "max_km": 10}],
        missions=[{"id": "m", "association": "far"}], associations=[{"id": "far", "lat": 48.0, "lon": 2.0}],
        forced=[{"employee": "e", "mission": "m"}])
    s = engine.relaxed_solution(p, km.Policy.preset("max_hours"), SolveOptions())
    assert s.status.value != "optimal" or km.check(p, s) == []


def test_auto_keeps_the_feasible_greedy_when_a_part_says_infeasible():
    from koeeo_match.solvers import RawResult
    from koeeo_match.solvers.auto import _better
    from koeeo_match.status import Status

    p = km.synth.city(employees=60, seed=0, rules="flow")
    g = km.build_candidates(p, "max_hours")
    greedy = km.solve(p, method="greedy")
    fallback = RawResult(np.flatnonzero(np.isin(g.employee, greedy.employee) & np.isin(g.mission, greedy.mission))[:1],
                         Status.FEASIBLE)
    out = _better(g, RawResult(np.zeros(0, np.int64), Status.INFEASIBLE), fallback)
    assert out.status == Status.FEASIBLE and out.bound is None and out.selected.tolist() == fallback.selected.tolist()


# ----------------------------------------------------------------------------- stopped before the certificate
@pytest.mark.parametrize("policy", POLICIES)
@settings(max_examples=40, **SETTINGS)
@given(records=problems(flow_friendly=True), data=st.data())
def test_the_bound_of_a_round_holds_for_the_whole_problem(records, policy, data):
    """Pricing stopped for lack of memory (after a random number of rounds: the memory given
    ranges from none for a second round to room for many) from a random start: the bound it
    reports, from the prices of a complete scan, is at least the whole problem's optimum, and
    at least the solution's value."""
    problem = flow_friendly(records)
    pairs = eligible_pairs(problem)
    assume(pairs)
    ea, ma = (np.array(x, np.int64) for x in zip(*pairs))
    full_g, full = priced(problem, policy, start=(ea, ma))
    best = int(full_g.score[full.selected].sum())
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs))), bool)
    memory = float(data.draw(st.integers(1, 100_000)))
    g, res = priced(problem, policy, start=(ea[keep], ma[keep]), memory_bytes=memory, add_per_node=1)
    value = int(g.score[res.selected].sum())
    assert res.bound is not None and res.bound >= best >= value
    if res.status == km.Status.OPTIMAL:
        assert res.bound == value == best


def test_price_bound_is_tight_where_the_prices_certify():
    """A bound of the prices themselves: nothing left out means the flow's value; an arc left
    out adds its gain on the smaller side (one employee capacity 2 against two missions)."""
    from koeeo_match.solvers.priced import price_bound

    k, seats = np.array([2, 1]), np.array([1, 1, 1])
    none = np.zeros(0, np.int64)
    assert price_bound(7, k, seats, none, none, none) == 7
    # employee 0 (capacity 2) has two arcs left out, gains 3 and 5: +10 by employees, +8 by missions
    assert price_bound(7, k, seats, np.array([0, 0]), np.array([1, 2]), np.array([3, 5])) == 15


@pytest.mark.parametrize("start_given", [True, False])
def test_no_time_for_a_first_flow_answers_greedy_with_a_bound(start_given):
    """With no time left for the first flow (or for the start graph), the answer is the greedy
    solution of the arcs held, every rule kept, with a bound valid for the whole problem."""
    p = km.synth.city(employees=300, seed=3, rules="flow")
    pol = km.Policy.preset("max_hours")
    opt = km.solve(p, method="flow")
    full = km.build_candidates(p, pol)
    start = (full.employee, full.mission) if start_given else None
    g, res = solve_priced(p, pol, SolveOptions(time_limit=1e-9), start=start)
    assert res.status == km.Status.FEASIBLE and res.termination == km.Termination.TIME_LIMIT
    assert res.stats["pricing"]["rounds"] == 0 and res.stats["pricing"]["fallback"]
    sol = engine.to_solution(p, g, res, "auto:priced", candidate_seconds=0.0, total_seconds=0.0)
    assert km.check(p, sol) == []
    assert sol.bound is not None and sol.bound >= opt.objective
    if start_given:  # greedy on every arc: far from nothing
        assert sol.objective >= 0.5 * opt.objective


def test_a_greedy_answer_past_the_deadline_takes_only_the_best_arcs(monkeypatch):
    """Past the deadline greedy's set-up runs on GREEDY_FLOOR_ARCS of the best arcs held, not all:
    the answer keeps every rule and uses only arcs among those."""
    from koeeo_match.solvers import _priced_rounds

    monkeypatch.setattr(_priced_rounds, "GREEDY_FLOOR_ARCS", 40)
    p = km.synth.city(employees=300, seed=3, rules="flow")
    pol = km.Policy.preset("max_hours")
    full = km.build_candidates(p, pol)
    g, res = solve_priced(p, pol, SolveOptions(time_limit=1e-9), start=(full.employee, full.mission))
    sol = engine.to_solution(p, g, res, "auto:priced", candidate_seconds=0.0, total_seconds=0.0)
    assert km.check(p, sol) == [] and 0 < len(res.selected) <= 40
    worst_taken = g.score[res.selected].min()
    assert (g.score > worst_taken).sum() < 40  # every arc taken is among the 40 best


@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
def test_remote_missions_cut_short_are_scanned_before_the_certificate(policy):
    """Each remote mission meets one employee per scan (remote_cap=1), from an empty start: the
    missions cut short stay to be scanned, and the certified optimum is the full graph's."""
    p = km.synth.region("Bretagne", employees=1500, seed=3, rules="flow")
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    g, res = priced(p, policy, start=empty, remote_cap=1, partial_k=0)
    kinds = [r["kind"] for r in res.stats["pricing"]["per_round"]]
    assert "capped" in kinds and kinds[-1] == "full"
    assert res.status == km.Status.OPTIMAL
    g0, res0 = priced(p, policy, start=empty, remote_cap=None, partial_k=0)
    assert int(g.score[res.selected].sum()) == int(g0.score[res0.selected].sum())
    if km.Policy.parse(policy).primary:
        assert objective(g, res) == km.solve(p, method="flow", policy=policy).objective


def test_rounds_say_which_kept_their_flow(caplog):
    """``per_round`` marks the rounds that kept the last flow (as many as ``kept_flows``), and
    their log line says so instead of counting arcs solved."""
    import logging

    p = km.synth.city(employees=300, seed=2, rules="flow")
    pol = km.Policy.preset("max_hours")
    with caplog.at_level(logging.INFO, logger="koeeo_match.solvers.priced"):
        g, res = solve_priced(p, pol, SolveOptions(), start_k=1)
    pricing = res.stats["pricing"]
    kept = [r["flow_kept"] for r in pricing["per_round"]]
    assert pricing["kept_flows"] >= 1 and sum(kept) == pricing["kept_flows"]
    assert pricing["full_solves"] + sum(kept) == pricing["rounds"]
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pricing round")]
    assert ["flow kept on" in line for line in lines] == kept
    assert res.status == km.Status.OPTIMAL
    assert float(g.terms["hours"][res.selected].sum()) == km.solve(p, method="flow").objective


def test_a_flow_no_longer_optimal_is_solved_on_the_networks_the_check_built(monkeypatch):
    """When the last flow is not optimal on the grown graph, the flow is solved on the networks
    the kept-flow check built: each part's network is built once per round."""
    from koeeo_match.solvers import _priced_flow as PF
    from koeeo_match.solvers.priced import capacity

    p = km.synth.city(employees=200, seed=3, rules="flow")
    full = km.build_candidates(p, "max_hours")
    k = capacity(p)
    best, _, _ = PF.PricedFlow(p, k, None, 1).solve(full, None)
    sub = np.setdiff1d(np.arange(len(full)), best)  # without the arcs of an optimum: a worse flow
    flow = PF.PricedFlow(p, k, None, 1)
    sel, _, _ = flow.solve(full.subset(sub), None)
    chosen = np.zeros(len(full), bool)
    chosen[sub[sel]] = True
    parts = sorted(len(part) for part in PF._build(p, full, k, None).parts)
    built: list[int] = []
    real = PF.network
    monkeypatch.setattr(PF, "network", lambda ctx, part: built.append(len(part)) or real(ctx, part))
    again, _, _ = flow.solve(full, chosen, added=0)
    assert flow.full_solves == 2 and flow.kept_flows == 0 and not flow.last_kept
    assert int(full.score[again].sum()) == int(full.score[best].sum())
    assert sorted(built) == parts


def test_each_parts_flow_job_is_its_slice_of_the_merged_network(monkeypatch):
    """The merge consumes the parts' networks (one copy held, not three); each part's flow job is
    then read back from its slice of the merged network, its nodes renumbered as in its own
    network.  With parts of 60 arcs, every job equals the one of the part's network built apart,
    and the priced optimum is the full graph's."""
    from koeeo_match.solvers import _priced_flow as PF
    from koeeo_match.solvers.flow import FlowJob
    from koeeo_match.solvers.priced import capacity

    monkeypatch.setattr(PF, "PART_ARCS", 60)
    p = km.synth.region("Bretagne", employees=600, seed=5, rules="flow")
    full = km.build_candidates(p, "max_hours", k=1)  # each node's best arc: many components
    k = capacity(p)
    fresh = PF._build(p, full, k, None)
    assert len(fresh.parts) > 3
    built = PF._build(p, full, k, None)
    refs = [weakref.ref(getattr(n, col)) for n in built.nets for col in ("tail", "head", "cost", "employee")]
    net = PF._merged(p, full, built)
    assert built.nets == [] and all(r() is None for r in refs)  # every part's arrays freed by the merge
    assert [s for s, *_ in net.parts][1:] == np.cumsum([n.tail.size for n in fresh.nets])[:-1].tolist()
    for i, own in enumerate(fresh.nets):
        a, b = PF._part_job(net, i, False), FlowJob.of(own, False, 0, own.tail.size)
        for x, y in ((a.tail, b.tail), (a.head, b.head), (a.capacity, b.capacity), (a.cost, b.cost)):
            assert np.array_equal(x, y)
        assert a.supply == own.supply and a.n == own.tail.size
    sel, _, _ = PF.PricedFlow(p, k, None, 1).solve(full, None)  # solved part by part, each from its slice
    on_graph = km.solve(p, method="flow", top_k=1)
    assert float(full.terms["hours"][sel].sum()) == on_graph.metrics["graph_bound"]


def test_the_scan_runs_on_the_pool_while_the_arcs_held_leave_room(monkeypatch):
    """The scan's workers are forked after the round's network is freed: whether they run is decided
    by the arcs held alone, not by the solve's memory (which kept every national scan on one core)."""
    from koeeo_match.solvers import _priced_rounds
    from koeeo_match.solvers import priced as P

    p = km.synth.city(employees=400, seed=3, rules="flow")
    seen: list[int] = []
    real = _priced_rounds.scan_round

    def spy(*args, **kw):
        seen.append(args[-1])  # workers, the last positional argument
        return real(*args, **kw)

    monkeypatch.setattr(P, "scan_round", spy)
    start = P.start_pairs(p, km.Policy.preset("max_hours"), 1)
    held = P.BYTES_PER_HELD_ARC * start[0].size
    # room for the arcs held on the pool, not for them and their solve
    memory = 1.5 * held / P.SCAN_POOL_SHARE
    assert P._need(start[0].size, start[0].size) >= P.SCAN_POOL_SHARE * memory
    solve_priced(p, km.Policy.preset("max_hours"), SolveOptions(workers=2), start_k=1, memory_bytes=memory)
    assert seen and seen[0] == 2
    seen.clear()
    solve_priced(p, km.Policy.preset("max_hours"), SolveOptions(workers=2), start_k=1, memory_bytes=0.5 * held)
    assert seen and seen[0] == 1  # the scan runs, on one core
