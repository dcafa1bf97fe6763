"""Time limits and Ctrl-C: every method returns a feasible solution (the greedy start at least)
and the best bound it knows, whatever the limit.  Behaviour only: the seconds are measured in
docs/solvers.md ("Time limits"), never asserted here (shared machines are noisy)."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import koeeo_match as km
import koeeo_match.solvers.auto as auto
from koeeo_match import engine
from koeeo_match.engine import to_solution
from koeeo_match.solvers import SolveOptions, _ledger, cpsat
from koeeo_match.solvers._auto_clock import INTERRUPTED
from koeeo_match.solvers.greedy import greedy_from
from koeeo_match.solvers.lp import _stoppable, lp_relaxation, lp_within, quick_bound

from conftest import brute_force, make
from test_auto import check_against_brute_force, problems_with_forced, small_problem
from test_properties import MAX_PAIRS, SETTINGS, problems


@pytest.fixture(scope="module")
def region():
    return km.synth.region("Bretagne", employees=1500, seed=2)  # every rule


@pytest.fixture(scope="module")
def big_easy():
    """One mission with 10,000 seats and 12,000 eligible volunteers: CP-SAT's presolve alone takes
    seconds on it, and it found no solution in 20 s before it was warm-started."""
    rng = np.random.default_rng(0)
    lat, lon = 45.0 + rng.uniform(-0.1, 0.1, 12_000), 5.0 + rng.uniform(-0.1, 0.1, 12_000)
    employees = [{"id": f"e{i}", "lat": float(a), "lon": float(b)} for i, (a, b) in enumerate(zip(lat, lon))]
    return make(employees, [{"id": "m", "seats": 10_000}])


def _cut_greedy_hours(p: km.Problem) -> float:
    """Hours of the greedy start stopped at once: its first slice of the scan (here every arc),
    no retry for the teams it left short (cancelled)."""
    g = km.build_candidates(p, "max_hours")
    cut = greedy_from(p, g, stop=lambda: True)
    assert cut.status == km.Status.FEASIBLE and cut.stats["stopped"]
    return float(p.missions.hours[g.mission[cut.selected]].sum())


@pytest.mark.parametrize("method", ["auto", "cpsat"])
def test_a_tiny_limit_returns_the_greedy_start_at_least(region, method, monkeypatch):
    """Far too little time for anything but the start: feasible, ``time_limit``, a bound, and at
    least the greedy start cut at the deadline (auto's decomposition, not its MIP route, with
    ``MIP_ARCS = 0``)."""
    monkeypatch.setattr(auto, "MIP_ARCS", 0)
    sol = km.solve(region, method=method, time_limit=1e-6)
    assert sol.status == km.Status.FEASIBLE and len(sol) > 0, sol
    assert sol.termination == km.Termination.TIME_LIMIT, sol
    assert km.check(region, sol) == []
    assert sol.objective >= _cut_greedy_hours(region) - 1e-9
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-9


def test_auto_mip_route_with_a_tiny_limit(region):
    sol = km.solve(region, method="auto", time_limit=1e-6)
    assert sol.status in (km.Status.FEASIBLE, km.Status.OPTIMAL) and len(sol) > 0, sol
    assert km.check(region, sol) == [] and sol.bound is not None


def test_cpsat_on_a_big_easy_instance_returns_a_solution(big_easy):
    sol = km.solve(big_easy, method="cpsat", time_limit=1.0)
    assert sol.status == km.Status.FEASIBLE and len(sol) == 10_000, sol
    assert km.check(big_easy, sol) == []
    assert sol.termination == km.Termination.TIME_LIMIT
    assert "CP-SAT" in sol.message and "greedy" in sol.message, sol.message


def test_cpsat_model_not_built_in_time_returns_the_greedy_start(region):
    """A limit spent before the model is built (the greedy start takes longer than 1e-6 s): the
    greedy solution, said so, with a bound."""
    g = km.build_candidates(region, "max_hours")
    res = cpsat.solve_cpsat(region, g, SolveOptions(time_limit=1e-6))
    start = greedy_from(region, g, stop=lambda: True)  # the deadline has passed after its first slice
    assert res.status == km.Status.FEASIBLE and res.termination == km.Termination.TIME_LIMIT
    assert np.array_equal(np.sort(res.selected), np.sort(start.selected))
    assert "could not be built within the time limit" in res.message and "greedy" in res.message, res.message
    assert res.bound is not None and res.bound >= int(g.score[res.selected].sum())


def test_cpsat_does_not_start_a_search_that_cannot_answer_in_time(region, monkeypatch):
    """A big model whose workers' first propagation (which nothing stops) would not end in the time
    left: the greedy start, said so, with a bound; with the time it needs, CP-SAT searches."""
    g = km.build_candidates(region, "max_hours")
    monkeypatch.setattr(cpsat, "GUARD_VARS", 100)  # this region's model counts as big
    monkeypatch.setattr(cpsat, "SECONDS_PER_VAR", 1.0)  # and each variable as a second
    res = cpsat.solve_cpsat(region, g, SolveOptions(time_limit=60))
    assert res.status == km.Status.FEASIBLE and res.termination == km.Termination.TIME_LIMIT, res
    assert "first propagation alone takes about" in res.message and "greedy" in res.message, res.message
    # nor is it built (france(scale=0.05) at T=5: a 2.3 s build of 644,322 arcs ran 0.6 s past the limit)
    assert res.stats["cpsat_built"] is False and "was not built" in res.message
    assert np.array_equal(np.sort(res.selected), np.sort(greedy_from(region, g).selected))
    assert res.bound is not None and res.bound >= int(g.score[res.selected].sum())
    monkeypatch.setattr(cpsat, "SECONDS_PER_VAR", 1e-9)
    searched = cpsat.solve_cpsat(region, g, SolveOptions(time_limit=2))
    assert "first propagation" not in searched.message and searched.stats.get("cpsat_searched") is not False


def test_auto_kills_parts_that_run_past_the_limit(region, monkeypatch):
    """A part whose step cannot be stopped (a flow, a repair) ran seconds past the limit on a loaded
    machine, and auto waited for it: forked parts are now killed at the limit, and the answer is the
    greedy one of the whole, said so, with the parts' bound."""
    import time

    def stuck(*args, **kwargs):  # a part that would end long after the limit
        time.sleep(60)

    monkeypatch.setattr(auto, "MIP_ARCS", 10)  # the parts route, in processes, on this small region
    monkeypatch.setattr(auto, "PARALLEL_ARCS", 10)
    monkeypatch.setattr(auto, "SPLIT_ARCS", 500)  # two parts (one alone runs in this process)
    monkeypatch.setattr(auto, "PART_ARCS", 500)
    monkeypatch.setattr(auto, "solve_part", stuck)
    t0 = time.monotonic()
    sol = km.solve(region, method="auto", time_limit=3)
    assert time.monotonic() - t0 < 3 + 1.5, "auto waited for its parts"
    assert sol.status == km.Status.FEASIBLE and sol.termination == km.Termination.TIME_LIMIT, sol
    assert "while the parts were searched" in sol.message and "greedy" in sol.message, sol.message
    assert km.check(region, sol) == [] and sol.bound is not None and sol.bound >= sol.objective


def test_cpsat_ctrl_c_during_model_building_reads_sensibly(region):
    """Ctrl-C (auto's flag, which cpsat's model building checks) before the model is built: the
    greedy start, termination ``interrupted``, and a message that says what happened."""
    g = km.build_candidates(region, "max_hours")
    INTERRUPTED.set()
    try:
        res = cpsat.solve_cpsat(region, g, SolveOptions(time_limit=60))
    finally:
        INTERRUPTED.clear()
    assert res.status == km.Status.FEASIBLE and res.termination == km.Termination.INTERRUPTED
    assert res.message.startswith("CP-SAT was interrupted (Ctrl-C) while building its model of"), res.message
    # Ctrl-C stopped the greedy start too (after its first slice: here every arc, so only the retries for
    # the teams it left short were skipped, and the message says so)
    assert res.message.endswith("best solution found so far, the greedy one, stopped before retrying the teams it "
                                "left short"), res.message
    assert "found no solution interrupted" not in res.message


def test_cpsat_without_a_start_says_so():
    """A forced pair the greedy cannot place and no time to build the model: nothing to return,
    and the message says why (never 'found no solution interrupted ... before')."""
    p = make([{"id": "e", "hours": 7}], [{"id": "m", "seats": 2, "min_seats": 2}, {"id": "n"}],
             forced=[{"employee": "e", "mission": "m"}])
    g = km.build_candidates(p, "max_hours")
    res = cpsat.solve_cpsat(p, g, SolveOptions(time_limit=1e-9))
    assert res.status == km.Status.UNKNOWN and res.termination == km.Termination.TIME_LIMIT, res
    assert res.message.startswith("CP-SAT's model of 2 arcs could not be built within the time limit ("), res.message
    assert res.message.endswith("), and no feasible start is known"), res.message


def test_an_lp_is_abandoned_on_ctrl_c():
    """SciPy's HiGHS cannot be interrupted: the LP runs in a helper thread that the caller stops
    waiting for on Ctrl-C (auto's flag), without a bound."""
    release = threading.Event()
    timer = threading.Timer(0.1, INTERRUPTED.set)
    timer.start()
    try:
        assert _stoppable(lambda: release.wait(60), None) is None
    finally:
        timer.cancel()
        release.set()
        INTERRUPTED.clear()


def test_lp_within_skips_an_lp_that_cannot_end_in_time(region):
    g = km.build_candidates(region, "max_hours")
    assert lp_within(region, g, None, 0.0)[0] is None  # a deadline long past, an LP above LP_SMALL_SETUP
    small = km.synth.region("Bretagne", employees=100, seed=0)
    gs = km.build_candidates(small, "max_hours")
    assert lp_within(small, gs, None, 0.0)[0] == lp_relaxation(small, gs)[0]  # small: it runs anyway


@settings(max_examples=60, **SETTINGS)
@given(records=problems())
def test_quick_bound_bounds_the_optimum(records):
    p = make(**records)
    g = km.build_candidates(p, "max_hours")
    best = brute_force(p, "max_hours", max_pairs=MAX_PAIRS) if len(g) <= MAX_PAIRS else None
    qb = quick_bound(p, g)
    if best is not None and best.pairs is not None:
        assert g.scale.primary_bound(qb) >= best.primary - 1e-6, (qb, best)
    sol = km.solve(p, method="greedy")
    if sol.status == km.Status.FEASIBLE:
        assert g.scale.primary_bound(qb) >= sol.objective - 1e-6


# ------------------------------------------------------------- a deadline already past (issue 17)


def _stop_after(calls: int):
    """A ``stop`` that answers True from its ``calls + 1``-th question on: the greedy tries
    ``calls + 1`` slices of its scan."""
    asked = [0]

    def stop() -> bool:
        asked[0] += 1
        return asked[0] > calls

    return stop


def _slices_of(mp: pytest.MonkeyPatch, arcs: int) -> None:
    """Make :meth:`Ledger.take` try ``arcs`` arcs a slice."""
    mp.setattr(_ledger, "_TAKE_MIN", arcs)
    mp.setattr(_ledger, "_TAKE_PARTS", 10**9)


@pytest.mark.parametrize("calls", [0, 3, 20])
def test_a_stopped_greedy_keeps_every_rule_on_a_region(region, calls):
    """The greedy start cut after ``calls + 1`` slices of 100 arcs (of 5,364; 73 team missions,
    every employer rule): what it took, the teams it left short cancelled, a feasible answer."""
    g = km.build_candidates(region, "max_hours")
    with pytest.MonkeyPatch.context() as mp:
        _slices_of(mp, 100)
        res = greedy_from(region, g, stop=_stop_after(calls))
    assert res.status == km.Status.FEASIBLE and res.stats["stopped"] and "stopped" in res.message, res
    assert 0 < res.selected.size < greedy_from(region, g).selected.size
    sol = to_solution(region, g, res, "greedy", candidate_seconds=0.0, total_seconds=0.0, compute_metrics=False)
    assert km.check(region, sol) == []


def test_a_stopped_greedy_cancels_the_team_it_started():
    """One slice of one arc: the team of two has one volunteer when the greedy stops; cancelled."""
    p = make([{"id": "a"}, {"id": "b"}], [{"id": "t", "seats": 2, "min_seats": 2}])
    g = km.build_candidates(p, "max_hours")
    with pytest.MonkeyPatch.context() as mp:
        _slices_of(mp, 1)
        res = greedy_from(p, g, stop=_stop_after(0))
    assert res.status == km.Status.FEASIBLE and res.selected.size == 0, res


@settings(max_examples=60, **SETTINGS)
@given(records=st.one_of(problems(), problems_with_forced()), calls=st.integers(0, 3))
def test_a_stopped_greedy_keeps_every_rule(records, calls):
    """The greedy start cut between slices of its scan (one arc a slice here): the teams it left
    short are cancelled, the forced pairs kept (or nothing claimed), never a broken rule."""
    p = make(**records)
    g = km.build_candidates(p, "max_hours")
    with pytest.MonkeyPatch.context() as mp:
        _slices_of(mp, 1)
        res = greedy_from(p, g, stop=_stop_after(calls))
    if res.status != km.Status.FEASIBLE:  # a forced pair it could not place: nothing is claimed
        assert res.selected.size == 0 and len(p.forced), res
        return
    sol = to_solution(p, g, res, "greedy", candidate_seconds=0.0, total_seconds=0.0, compute_metrics=False)
    assert km.check(p, sol) == []
    assert {(f["employee"], f["mission"]) for f in records["forced"]} <= set(sol.assignments)


@settings(max_examples=60, **SETTINGS)
@given(records=st.one_of(problems(), problems_with_forced()))
@pytest.mark.parametrize("method", ["auto", "cpsat"])
def test_a_deadline_already_past_gives_a_feasible_answer_and_a_valid_bound(method, records):
    """``time_limit=1e-9``: the deadline has passed at the first check.  ``auto`` (its
    decomposition: ``MIP_ARCS = 0``) and ``cpsat`` answer with the greedy start cut after its first
    slice of one arc: feasible by every rule, and a bound at least the optimum (brute force)."""
    p = small_problem(records)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auto, "MIP_ARCS", 0)
        _slices_of(mp, 1)
        sol = km.solve(p, method=method, time_limit=1e-9)
    check_against_brute_force(p, sol, "max_hours")
    if sol.status == km.Status.FEASIBLE:
        assert sol.termination == km.Termination.TIME_LIMIT, sol


@pytest.mark.parametrize("method", ["greedy", "fcfs", "stable"])
def test_the_baselines_stop_at_the_time_limit_with_a_feasible_answer(method, monkeypatch):
    """greedy and fcfs stop between slices of their scan, stable every _CHECK_EVERY turns (made
    tiny here): past the limit the answer is what they had, every rule kept, termination
    time_limit; without a limit, the whole method."""
    from koeeo_match.solvers import _ledger, stable

    monkeypatch.setattr(_ledger, "_TAKE_MIN", 8)
    monkeypatch.setattr(stable, "_CHECK_EVERY", 1)
    monkeypatch.setattr(engine, "GRAPH_SHARE", 1e12)  # the graph whole: the solver is what stops
    p = km.synth.city(employees=300, seed=2, rules="flow")
    whole = km.solve(p, method=method)
    cut = km.solve(p, method=method, time_limit=1e-9)
    assert km.check(p, cut) == [] and km.check(p, whole) == []
    assert cut.termination == km.Termination.TIME_LIMIT and whole.termination != km.Termination.TIME_LIMIT
    assert len(cut.assignments) < len(whole.assignments)
    assert "stopped" in cut.message


@pytest.mark.parametrize("limit", [float("inf"), 1e300])
def test_an_unbounded_time_limit_is_no_limit_on_every_route(limit):
    """``time_limit=inf`` (or one no clock can hold) is accepted and means no limit: HiGHS' MIP is
    given none (a timedelta cannot hold it), CP-SAT and the flow run to the end."""
    p = km.synth.region("Bretagne", employees=300, seed=0)  # every rule: auto takes the MIP route
    ref = km.solve(p, method="cpsat")
    for method in ("auto", "cpsat", "greedy"):
        s = km.solve(p, method=method, time_limit=limit)
        assert km.check(p, s) == []
        if method != "greedy":
            assert s.status == km.Status.OPTIMAL and s.objective == ref.objective


# ----------------------------------------------------------------------------- the candidate graph counts
def test_a_stopped_build_gives_a_part_of_the_graph_marked_partial():
    p = km.synth.city(employees=3000, seed=2)  # more employees than a stoppable chunk (STOP_CHUNK)
    full = km.build_candidates(p, "max_hours")
    calls = []

    def stop() -> bool:  # True from the third question on, and from then on
        calls.append(1)
        return len(calls) > 2

    part = km.build_candidates(p, "max_hours", stop=stop)
    keys = set(zip(full.employee.tolist(), full.mission.tolist()))
    assert part.partial and not full.partial and 0 < len(part) < len(full)
    assert set(zip(part.employee.tolist(), part.mission.tolist())) <= keys
    never = km.build_candidates(p, "max_hours", stop=lambda: False)  # drawn in small chunks, all of them
    assert never.partial is False and np.array_equal(never.employee, full.employee)
    assert np.array_equal(never.mission, full.mission) and np.array_equal(never.score, full.score)


@pytest.mark.parametrize("method", ["cpsat", "greedy", "fcfs", "stable", "flow"])
def test_the_candidate_graph_counts_in_the_time_limit(method, monkeypatch):
    """Off the priced routes the graph used to be built whole before the limit started: 10-60 s past
    a 0.5 s limit on Ille-et-Vilaine or Bretagne.  Its build now stops at GRAPH_SHARE of the limit
    (0 here, and no minimum: at once) and the solve runs on the arcs built, which prove nothing about the problem:
    feasible, no bound, graph_partial, even where the solver proves its part optimal."""
    monkeypatch.setattr(engine, "GRAPH_SHARE", 0.0)
    monkeypatch.setattr(engine, "GRAPH_MIN_SECONDS", 0.0)
    p = km.synth.city(employees=300, seed=2, rules="flow")
    cut = km.solve(p, method=method, time_limit=60)
    assert km.check(p, cut) == [] and cut.status == km.Status.FEASIBLE and cut.bound is None
    assert cut.metrics["graph_partial"] is True and cut.termination == km.Termination.TIME_LIMIT
    assert "stopped the candidate graph" in cut.message
    monkeypatch.setattr(engine, "GRAPH_SHARE", 0.5)
    whole = km.solve(p, method=method, time_limit=60)
    assert whole.metrics["graph_partial"] is False and len(whole) >= len(cut)


def test_ctrl_c_while_the_graph_is_built_answers_with_a_feasible_solution(monkeypatch):
    """Ctrl-C during the candidate graph used to raise KeyboardInterrupt from numpy, no solution."""
    import os
    import signal

    real = engine.build_candidates

    def interrupted(*args, **kw):
        os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C now
        return real(*args, **kw)

    monkeypatch.setattr(engine, "build_candidates", interrupted)
    p = km.synth.city(employees=300, seed=2)
    g = real(p, "max_hours")  # one eligible pair made forced: a part of the graph must still hold it
    i = len(g) // 2
    p = dataclasses.replace(p, forced=km.model.Pairs(g.employee[i:i + 1], g.mission[i:i + 1], np.zeros(1)))
    s = km.solve(p, method="cpsat", time_limit=60)
    assert s.termination == km.Termination.INTERRUPTED and s.status == km.Status.FEASIBLE
    assert km.check(p, s) == [] and s.metrics["graph_partial"] is True and s.bound is None
    assert (p.employees.ids[g.employee[i]], p.missions.ids[g.mission[i]]) in s.assignments


@pytest.mark.parametrize("method", ["greedy", "fcfs", "cpsat"])
def test_no_solution_on_a_part_of_the_graph_is_unknown_not_feasible(method, monkeypatch):
    """Two forced pairs on a one-seat mission: no solution exists.  On a part of the graph the answer
    used to be rewritten 'feasible' (0 assignments, 2 violations); it stays 'unknown', no pair."""
    monkeypatch.setattr(engine, "GRAPH_SHARE", 0.0)
    monkeypatch.setattr(engine, "GRAPH_MIN_SECONDS", 0.0)
    p = make(employees=[{"id": "e1"}, {"id": "e2"}], missions=[{"id": "m", "seats": 1}],
             forced=[{"employee": "e1", "mission": "m"}, {"employee": "e2", "mission": "m"}])
    s = km.solve(p, method=method, time_limit=60)
    assert s.metrics["graph_partial"] is True
    assert s.status in (km.Status.UNKNOWN, km.Status.INFEASIBLE) and s.status != km.Status.FEASIBLE
    assert s.assignments == [] and s.bound is None


def test_a_full_graph_the_limit_would_cut_gives_way_to_the_capped_graph(monkeypatch):
    """A full graph cut short by the limit holds every arc of the employees drawn first and none of the
    others (Ille-et-Vilaine, greedy at T=5: 37,537.5 h); when the full graph would be late
    (``full_graph_late``), each employee's and mission's k best arcs are drawn instead (20 when there
    is time for them, START_K at least): a part of the problem all the same (feasible, no bound,
    graph_partial), forced pairs included."""
    from koeeo_match.candidates import _estimate

    p = km.synth.city(employees=300, seed=2, rules="flow")
    g = km.build_candidates(p, "max_hours")
    # forced: the worst arc of an employee and a mission with more than 6 arcs each, outside their 5 best
    # (a capped graph used to leave it out: greedy's answer was then 'unknown', nothing assigned)
    n_e, n_m = np.bincount(g.employee, minlength=p.n_employees), np.bincount(g.mission, minlength=p.n_missions)
    many = np.flatnonzero((n_e[g.employee] > 6) & (n_m[g.mission] > 6))
    i = int(many[np.argmin(g.score[many])])
    five = km.build_candidates(p, "max_hours", k=engine.START_K)
    assert not ((five.employee == g.employee[i]) & (five.mission == g.mission[i])).any()
    p = dataclasses.replace(p, forced=km.model.Pairs(g.employee[i:i + 1], g.mission[i:i + 1], np.zeros(1)))
    assert _estimate.full_graph_late(p, 1e-9, engine.START_K) is None  # not 10x the capped graph: drawn whole
    monkeypatch.setattr(_estimate, "CAP_RATIO", 0.01)
    assert _estimate.full_graph_late(p, 1e9, engine.START_K) is None  # drawn in time: the full graph
    monkeypatch.setattr(_estimate, "DRAW_SECONDS_PER_ARC", 1e3)  # it would not be
    assert _estimate.full_graph_late(p, 60, engine.START_K).arcs > 0
    for method, k in (("greedy", 20), ("cpsat", 20), ("fcfs", 20), ("greedy", engine.START_K)):
        if k == engine.START_K:  # no time for a larger cap (capped_k)
            monkeypatch.setattr(_estimate, "DRAW_SECONDS_PER_CAPPED", 1e3)
        capped = km.build_candidates(p, "max_hours", k=k)
        s = km.solve(p, method=method, time_limit=60)
        assert km.check(p, s) == [] and s.status == km.Status.FEASIBLE and s.bound is None
        assert s.metrics["top_k"] == k and s.metrics["candidate_arcs"] == len(capped)
        assert s.metrics["graph_partial"] is True and s.termination == km.Termination.TIME_LIMIT
        assert f"capped at top_k={k}" in s.message and "a part of the candidate graph" in s.message
        assert (p.employees.ids[g.employee[i]], p.missions.ids[g.mission[i]]) in s.assignments
    whole = km.solve(p, method="greedy")  # no limit: the full graph, as before
    assert whole.metrics["top_k"] is None and whole.metrics["graph_partial"] is False
    capped = km.solve(p, method="greedy", top_k=engine.START_K)  # a user's cap holds the forced pair too
    assert km.check(p, capped) == [] and capped.status == km.Status.FEASIBLE


def test_a_full_graph_too_big_for_memory_and_too_slow_for_the_limit_gives_way_to_the_capped_graph(monkeypatch):
    """Under a time limit, a full graph that would fit neither in memory nor in the time used to be
    refused (InsufficientMemoryError: greedy on france(scale=0.2) at T=1, "at least 40.5 GiB", a
    review's finding) where the capped graph fits: it is drawn instead.  Without a limit, the refusal."""
    from koeeo_match.candidates import _estimate
    from koeeo_match.memory import bytes_per_arc

    same = {"lat": 45.0, "lon": 5.0}
    p = km.Problem.from_records(associations=[{"id": "a", **same}],
                                employees=[{"id": f"e{i}", **same} for i in range(200)],
                                missions=[{"id": f"m{j}", "association": "a", "seats": 2} for j in range(50)])
    full, capped = 200 * 50, engine.START_K * 250
    between = (full * bytes_per_arc(p, "greedy", None) + capped * bytes_per_arc(p, "greedy", engine.START_K)) / 2
    with pytest.raises(km.InsufficientMemoryError):
        km.solve(p, method="greedy", memory_limit=between / 2**30)
    monkeypatch.setattr(_estimate, "CAP_RATIO", 1)
    monkeypatch.setattr(_estimate, "DRAW_SECONDS_PER_ARC", 1e3)  # the full graph would not be drawn in time
    s = km.solve(p, method="greedy", memory_limit=between / 2**30, time_limit=60)
    assert km.check(p, s) == [] and s.status == km.Status.FEASIBLE and s.bound is None
    # the largest cap drawn in time whose solve fits (it used to be START_K whatever fitted: cpsat on
    # 30,000 employees at T=15 drew 5 arcs a node, 114,590 h, where T=8 drew 20, 130,018 h)
    assert s.metrics["top_k"] == 20 and s.metrics["graph_partial"] is True and len(s) > 0
    five, ten = (k * 250 * bytes_per_arc(p, "greedy", k) for k in (engine.START_K, 10))
    s = km.solve(p, method="greedy", memory_limit=(five + ten) / 2 / 2**30, time_limit=60)  # only 5 a node fits
    assert km.check(p, s) == [] and s.metrics["top_k"] == engine.START_K and len(s) > 0
    with pytest.raises(km.InsufficientMemoryError):  # nor the capped graph: refused
        km.solve(p, method="greedy", memory_limit=1e-9, time_limit=60)


@pytest.mark.parametrize("method", ["greedy", "cpsat", "fcfs", "auto"])
def test_a_forced_pair_not_eligible_is_infeasible_on_a_part_too(method, monkeypatch):
    """A part of the graph holds every eligible forced pair, so one missing is not eligible: the
    problem is infeasible, proven, as on the full graph (it used to read 'unknown' on a part, a
    review's finding)."""
    from koeeo_match.candidates import _estimate

    p = km.synth.city(employees=300, seed=2, rules="flow")
    g = km.build_candidates(p, "max_hours")
    has = set(g.mission[g.employee == 0].tolist())
    m = next(j for j in range(p.n_missions) if j not in has)
    p = dataclasses.replace(p, forced=km.model.Pairs(np.array([0]), np.array([m]), np.zeros(1)))
    monkeypatch.setattr(_estimate, "CAP_RATIO", 0.01)
    monkeypatch.setattr(_estimate, "DRAW_SECONDS_PER_ARC", 1e3)  # the capped route
    s = km.solve(p, method=method, time_limit=60)
    assert s.metrics["top_k"] is not None and s.metrics["graph_partial"] is True
    assert s.status == km.Status.INFEASIBLE and s.assignments == [] and "not eligible" in s.message


def test_the_priced_routes_start_graph_gets_its_floor_of_drawing(monkeypatch):
    """Every other route draws its graph for ``GRAPH_MIN_SECONDS`` at least, so that a tiny limit
    still gets an answer; the priced route drew its start graph for 60 % of the limit only, and
    Ille-et-Vilaine at T = 0.3 got no arc and no assignment (an audit's finding at T = 0.5 under
    load).  It now has the same floor."""
    monkeypatch.setattr(engine, "PRICED_MIN_ARCS", 0)  # price even this instance
    p = km.synth.city(employees=3000, seed=0, rules="flow")
    s = km.solve(p, time_limit=1e-3)
    assert s.method == "auto:priced" and km.check(p, s) == []
    assert s.status == km.Status.FEASIBLE and len(s.assignments) > 0, s.message


def test_the_mip_route_answers_with_its_greedy_start_when_highs_has_no_time(monkeypatch):
    """Under a limit the MIP route computes the greedy solution first; with less time left than
    HiGHS needs to start (its model's export and process), HiGHS is not started and the greedy
    solution is the answer, before the limit (a 30,000-employee city at T = 0.5 answered after
    0.65-0.75 s: HiGHS started with no time, was killed past the limit, then the greedy ran)."""
    import koeeo_match.solvers._auto_mip as auto_mip

    monkeypatch.setattr(auto_mip, "MIP_SETUP_SECONDS", 1e9)  # never time enough

    def no_highs(*args, **kwargs):
        raise AssertionError("HiGHS started without the time to")

    monkeypatch.setattr(auto_mip, "solve_mip", no_highs)
    p = km.synth.city(employees=300, seed=0, rules="all")
    s = km.solve(p, time_limit=30)
    assert s.method == "auto:greedy" and s.status == km.Status.FEASIBLE and km.check(p, s) == []
    assert s.termination == km.Termination.TIME_LIMIT and "before HiGHS could start" in s.message
    assert len(s.assignments) > 0 and s.bound is not None and s.bound >= s.objective
    # without a limit HiGHS always runs (and proves)
    monkeypatch.undo()
    assert km.solve(p).status == km.Status.OPTIMAL
