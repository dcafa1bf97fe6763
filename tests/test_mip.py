"""The MIP (solvers/mip.py) and auto's MIP route (solvers/_auto_mip.py): against brute force and
CP-SAT's exact optima, km.check, valid bounds, and the route auto takes.  No test here depends
on timing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import koeeo_match as km
import koeeo_match.solvers._auto_mip as auto_mip
import koeeo_match.solvers.auto as auto
import koeeo_match.solvers.mip as mip_mod
from koeeo_match.solvers import RawResult, SolveOptions
from koeeo_match.solvers.cpsat import solve_cpsat
from koeeo_match.solvers.mip import mip_model, solve_mip

from conftest import brute_force, total_hours
from test_auto import problems_with_forced
from test_properties import MAX_PAIRS, SETTINGS, problems, small

SETTINGS = {**SETTINGS,
            "suppress_health_check": [*SETTINGS["suppress_health_check"], HealthCheck.function_scoped_fixture]}


def pairs_of(p: km.Problem, g, arcs: np.ndarray) -> list[tuple[str, str]]:
    return list(zip(p.employees.ids[g.employee[arcs]].tolist(), p.missions.ids[g.mission[arcs]].tolist()))


def total(g, res: RawResult) -> int:
    return int(g.score[res.selected].sum())


# ----------------------------------------------------------------------------- the MIP alone
@pytest.mark.parametrize("policy", ["max_hours", "balanced", "territorial_equity"])
@settings(max_examples=40, **SETTINGS)
@given(records=problems())
def test_mip_optimum_is_cpsat_and_brute_force_optimum(records, policy):
    """Proven optimal, feasible by km.check, the same integer total as CP-SAT's proven optimum
    (tie-breaks included), and brute force's value in the policy's units."""
    p = small(records)
    g = km.build_candidates(p, policy)
    res = solve_mip(p, g, SolveOptions())
    ref = solve_cpsat(p, g, SolveOptions())
    if ref.status == km.Status.INFEASIBLE:
        assert res.status == km.Status.INFEASIBLE and res.selected.size == 0
        assert brute_force(p, policy, max_pairs=MAX_PAIRS).pairs is None
        return
    assert ref.status == km.Status.OPTIMAL
    assert res.status == km.Status.OPTIMAL, res
    assert km.check(p, pairs_of(p, g, res.selected)) == []
    assert total(g, res) == total(g, ref) == res.bound
    if policy == "max_hours":  # brute force's optimum: the hours placed
        best = brute_force(p, policy, max_pairs=MAX_PAIRS)
        assert total_hours(p, pairs_of(p, g, res.selected)) == pytest.approx(best.primary), best


@settings(max_examples=40, **SETTINGS)
@given(records=problems_with_forced())
def test_mip_with_forced_pairs_agrees_with_brute_force(records):
    """Forced pairs: infeasible exactly when no subset of eligible pairs keeps every rule."""
    p = small(records)
    g = km.build_candidates(p, "max_hours")
    res = solve_mip(p, g, SolveOptions())
    best = brute_force(p, "max_hours", max_pairs=MAX_PAIRS)
    if best.pairs is None:
        assert res.status == km.Status.INFEASIBLE, res
        return
    assert res.status == km.Status.OPTIMAL, res
    assert km.check(p, pairs_of(p, g, res.selected)) == []
    assert total_hours(p, pairs_of(p, g, res.selected)) == pytest.approx(best.primary)


@settings(max_examples=40, **SETTINGS)
@given(records=problems())
def test_mip_bound_without_tie_breaks_is_valid(records):
    """The tie-break stage given no time: the hours optimum is proven, the bound is that optimum
    times the multiplier plus a bound on the secondary total, never below the true optimum."""
    p = small(records)
    g = km.build_candidates(p, "max_hours")
    res = solve_mip(p, g, SolveOptions(time_limit=60), shares=(1.0, 0.0))
    ref = solve_cpsat(p, g, SolveOptions())
    if ref.status == km.Status.INFEASIBLE:
        assert res.status == km.Status.INFEASIBLE
        return
    assert res.status in (km.Status.OPTIMAL, km.Status.FEASIBLE)
    assert res.stats["mip_primary_proven"]
    assert km.check(p, pairs_of(p, g, res.selected)) == []
    assert res.bound is not None and res.bound >= total(g, ref) >= total(g, res)
    # the hours are optimal already
    assert res.stats["mip_primary"] == int(g.scale.primary(g.score[ref.selected]).sum())


def test_mip_on_a_region_keeps_every_rule_and_reaches_cpsat():
    p = km.synth.region("Bretagne", employees=300, seed=0)
    g = km.build_candidates(p, "max_hours")
    res = solve_mip(p, g, SolveOptions(seed=3))
    ref = solve_cpsat(p, g, SolveOptions())
    assert res.status == ref.status == km.Status.OPTIMAL
    assert total(g, res) == total(g, ref) == res.bound
    assert km.check(p, pairs_of(p, g, res.selected)) == []
    again = solve_mip(p, g, SolveOptions(seed=3))  # same input, same seed: same answer
    assert np.array_equal(again.selected, res.selected)


def test_mip_model_columns_and_rows():
    """A feasible solution as columns keeps every row; one more volunteer on a full mission breaks one."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    g = km.build_candidates(p, "max_hours")
    model = mip_model(p, g)
    ref = solve_cpsat(p, g, SolveOptions())
    v = model.columns(g, ref.selected)
    assert model.feasible(v)
    assert np.array_equal(model.keep[v[: model.keep.size]], np.intersect1d(ref.selected, model.keep))
    assert v[model.keep.size:].sum() == np.isin(model.team_missions, g.mission[ref.selected]).sum()
    full = np.bincount(g.mission[ref.selected], minlength=g.n_missions) >= p.missions.seats
    extra = np.flatnonzero(full[g.mission] & ~np.isin(np.arange(len(g)), ref.selected)
                           & np.isin(np.arange(len(g)), model.keep))
    assert extra.size
    assert not model.feasible(model.columns(g, np.append(ref.selected, extra[0])))


def test_mip_keeps_a_hint_it_cannot_improve_in_time():
    """A hint is the start: with no time for HiGHS at all, the hint is what comes back."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    g = km.build_candidates(p, "max_hours")
    start = km.solvers.greedy.greedy_from(p, g)
    res = solve_mip(p, g, SolveOptions(time_limit=10, hint=start.selected))
    assert res.status == km.Status.OPTIMAL and total(g, res) >= total(g, start)


def far_and_near() -> km.Problem:
    """Two volunteers whose employer's hours budget allows only one of them on the mission: under
    'territorial_equity' the priority 1e6 (the top of its documented range) makes each arc score
    about 7e6, and the nearer volunteer is worth 0.127 more (5 units of 2.8e8 in the integer
    scores)."""
    return km.Problem.from_records(
        employers=[{"id": "c0", "hours_budget": 10.5}],
        associations=[{"id": "a0", "lat": 48.96087, "lon": 2.48999, "priority": 1e6}],
        employees=[{"id": "e6", "lat": 48.94436, "lon": 2.18169, "employer": "c0"},   # ~22.6 km away
                   {"id": "e7", "lat": 48.88741, "lon": 2.56655, "employer": "c0"}],  # ~10.1 km away
        missions=[{"id": "m5", "association": "a0"}])


def test_mip_proves_to_one_unit_of_a_large_weighted_score():
    """HiGHS got the scores divided by the largest, and stops where no node can gain more than its
    tolerance (1e-6) in those units: it proved the farther volunteer optimal, 5 units short."""
    p = far_and_near()
    g = km.build_candidates(p, "territorial_equity")
    res = solve_mip(p, g, SolveOptions())
    ref = solve_cpsat(p, g, SolveOptions())
    assert ref.status == res.status == km.Status.OPTIMAL
    assert total(g, res) == total(g, ref) == res.bound == int(g.score.max())
    assert pairs_of(p, g, res.selected) == [("e7", "m5")]


def test_mip_does_not_keep_a_proof_its_start_refutes(monkeypatch):
    """HiGHS (here made to) call a solution optimal that its own start beats: the start is kept,
    and neither the proof nor HiGHS' dual bound is."""
    p = far_and_near()
    g = km.build_candidates(p, "territorial_equity")
    worse, better = np.argsort(g.score)
    real_run = mip_mod._run

    def short(model, c, *args, **kw):
        a = real_run(model, c, *args, **kw)
        v = np.zeros(model.n, bool)
        v[np.searchsorted(model.keep, worse)] = True
        return mip_mod._Answer(v, a.reason, float(c[v].sum()), a.seconds)

    monkeypatch.setattr(mip_mod, "_run", short)
    res = solve_mip(p, g, SolveOptions(hint=np.array([better])))
    assert res.status == km.Status.FEASIBLE and res.bound is None and not res.stats["mip_primary_proven"]
    assert res.selected.tolist() == [better]


# ----------------------------------------------------------------------------- auto's MIP route
def test_auto_mip_optimum_is_the_optimum_at_a_large_weighted_score():
    """The fuzzer's case: auto (its MIP route) said optimal with bound == objective 7000003.274 where
    cpsat and greedy place the nearer volunteer, 7000003.401."""
    p = far_and_near()
    ref = km.solve(p, method="cpsat", policy="territorial_equity")
    sol = km.solve(p, method="auto", policy="territorial_equity")
    assert ref.status == km.Status.OPTIMAL and ref.assignments == [("e7", "m5")]
    assert sol.method == "auto:mip" and km.check(p, sol) == []
    assert sol.objective >= ref.objective
    if sol.status == km.Status.OPTIMAL:
        assert sol.bound == ref.bound and sol.objective == ref.objective


def test_auto_does_not_report_a_mip_proof_the_greedy_solution_refutes(monkeypatch):
    """HiGHS (here made to) call the farther volunteer optimal, bound included: the greedy solution
    scores more, so the proof is dropped and CP-SAT proves the true optimum."""
    p = far_and_near()
    g = km.build_candidates(p, "territorial_equity")
    worse = int(np.argmin(g.score))

    def wrong(problem, sub, options, **kw):
        return RawResult(np.array([worse]), km.Status.OPTIMAL, int(g.score[worse]), "",
                         {"mip_primary_proven": True}, termination=km.Termination.OPTIMAL)

    monkeypatch.setattr(auto_mip, "solve_mip", wrong)
    sol = km.solve(p, method="auto", policy="territorial_equity")
    ref = km.solve(p, method="cpsat", policy="territorial_equity")
    assert sol.method == "auto:mip+cpsat" and sol.status == km.Status.OPTIMAL, sol
    assert sol.assignments == ref.assignments == [("e7", "m5")] and sol.bound == ref.bound


def test_auto_takes_the_mip_route_on_small_instances():
    p = km.synth.region("Bretagne", employees=300, seed=0)
    sol = km.solve(p, method="auto")
    ref = km.solve(p, method="cpsat")
    assert sol.method == "auto:mip" and sol.status == km.Status.OPTIMAL
    assert km.check(p, sol) == [] and sol.objective == ref.objective
    assert sol.assignments == km.solve(p, method="auto").assignments  # deterministic


def test_auto_takes_the_mip_route_for_parts(monkeypatch):
    """An instance above MIP_ARCS is decomposed; its parts up to MIP_PART_ARCS go to the MIP."""
    p = km.synth.city(employees=150, seed=0)
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    monkeypatch.setattr(auto, "MIP_PART_ARCS", 10**9)
    sol = km.solve(p, method="auto")
    ref = km.solve(p, method="cpsat")
    assert sol.method.startswith("auto:parts(lp+repair+mip"), sol.method
    assert km.check(p, sol) == [] and sol.status == km.Status.OPTIMAL
    assert sol.objective == pytest.approx(ref.objective)


def test_auto_continues_with_cpsat_where_the_mip_does_not_prove(monkeypatch):
    """The MIP stopped early (here: it returns a greedy solution and a loose bound): CP-SAT goes on
    from its solution, and auto's answer is at least as good and proven."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    g = km.build_candidates(p, "max_hours")
    weak = km.solvers.greedy.greedy_from(p, g)

    def stopped_early(problem, sub, options, **kw):
        return RawResult(weak.selected, km.Status.FEASIBLE, 10 * int(g.score.sum()), "time limit", {},
                         termination=km.Termination.TIME_LIMIT)

    monkeypatch.setattr(auto_mip, "solve_mip", stopped_early)
    sol = km.solve(p, method="auto", time_limit=60)
    ref = km.solve(p, method="cpsat")
    assert sol.method == "auto:mip+cpsat" and sol.status == km.Status.OPTIMAL, sol
    assert km.check(p, sol) == [] and sol.objective == ref.objective


def test_auto_answers_when_highs_is_cut_off(monkeypatch):
    """HiGHS stopped before any solution (Ctrl-C, or far past its limit: MathOpt's HiGHS cannot be
    interrupted, so its incumbent is out of reach) and no time left: the greedy answer, feasible."""
    p = km.synth.region("Bretagne", employees=300, seed=0)

    def cut_off(problem, sub, options, **kw):
        return RawResult(np.zeros(0, np.int64), km.Status.UNKNOWN, None, "cut off", {},
                         termination=km.Termination.TIME_LIMIT)

    monkeypatch.setattr(auto_mip, "solve_mip", cut_off)
    monkeypatch.setattr(auto_mip, "MIN_CPSAT", 10**9)  # no time for CP-SAT either
    sol = km.solve(p, method="auto", time_limit=5)
    assert sol.status == km.Status.FEASIBLE and len(sol) > 0, sol
    assert km.check(p, sol) == []


def test_auto_with_no_time_for_the_mip_still_answers():
    """A limit far too short for any search: a feasible (greedy) answer, never an empty one."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    sol = km.solve(p, method="auto", time_limit=1e-6)
    assert sol.status in (km.Status.OPTIMAL, km.Status.FEASIBLE) and len(sol) > 0
    assert km.check(p, sol) == []


@pytest.mark.parametrize("cpsat_time", [0.0, 5.0])
def test_a_poor_mip_incumbent_never_beats_the_greedy_solution(monkeypatch, cpsat_time):
    # under a time limit HiGHS may stop on a poor incumbent (here: nothing at all, feasible): auto's
    # answer, and CP-SAT's start, are then the greedy solution if it scores more
    import time

    from koeeo_match.solvers.greedy import greedy_from
    from koeeo_match.status import Status

    p = km.synth.region("Bretagne", employees=300, seed=0, rules="all")
    g = km.build_candidates(p, "max_hours")
    monkeypatch.setattr(auto_mip, "solve_mip", lambda *a, **k: RawResult(np.zeros(0, np.int64), Status.FEASIBLE,
                                                                         None, "", {}))
    res, _ = auto_mip.mip_search(p, g, SolveOptions(), time.monotonic() + cpsat_time)
    greedy = greedy_from(p, g)
    assert int(g.score[res.selected].sum()) >= int(g.score[greedy.selected].sum()) > 0
