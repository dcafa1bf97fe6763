"""No crash for lack of memory (issue 15, deliverable 4): the graph's size estimated before it
is built, and a solve that would not fit refused up front with a route that does."""

from __future__ import annotations

import math

import numpy as np
import pytest

import koeeo_match as km
from koeeo_match import memory
from koeeo_match.candidates import arc_estimate, eligible_pairs
from koeeo_match.cli import main
from koeeo_match.solvers import SolveOptions, cpsat
from koeeo_match.solvers.greedy import greedy_from

# Sampled estimates against the true count: instances of several densities and rules, each
# larger than the sample.  The sample is seeded on its own, so the errors are fixed numbers
# (within 2.8 % and 1.4 standard errors at 2,048 sampled employees); the test allows 6 % and 4.
CASES = [("35", 0.3, 0, "flow"), ("69", 0.1, 1, "all"), ("75", 0.1, 2, "flow"), ("13", 0.1, 3, "all")]


@pytest.mark.parametrize(("dep", "scale", "seed", "rules"), CASES)
def test_estimate_matches_the_true_count(dep, scale, seed, rules):
    p = km.synth.france(departement=dep, scale=scale, seed=seed, rules=rules)
    est = arc_estimate(p)
    true = len(eligible_pairs(p)[0])
    assert not est.exact and p.n_employees > 2 * 2048
    assert abs(est.arcs - true) <= 0.06 * true
    assert abs(est.arcs - true) <= 4 * est.stderr
    assert est.low() <= true
    again = km.synth.france(departement=dep, scale=scale, seed=seed, rules=rules)  # not the cached one
    assert again is not p and arc_estimate(again) == est  # deterministic
    assert km.estimate_arcs(p) == est.arcs


def test_estimate_is_exact_on_small_problems_and_capped_by_k():
    p = km.synth.city(employees=300, seed=2, rules="flow")
    assert km.estimate_arcs(p) == len(km.build_candidates(p, "max_hours"))
    assert km.estimate_arcs(p, k=1) <= p.n_employees + p.n_missions
    assert km.estimate_arcs(km.Problem.from_records(employees=[], missions=[])) == 0


def test_a_numpy_integer_top_k_counts_as_the_same_python_integer():
    # np.int64(2**62) * (employees + missions) wrapped around to a negative cap: the refusal was
    # skipped, the estimate negative, and the capped graph's KD-tree query a raw ValueError
    p = km.synth.city(employees=40, seed=0)
    big = np.int64(2**62)
    assert km.estimate_arcs(p, k=big) == km.estimate_arcs(p, k=2**62) == km.estimate_arcs(p)
    assert len(km.build_candidates(p, "max_hours", k=big)) == len(km.build_candidates(p, "max_hours"))
    for k in (2**62, big):
        with pytest.raises(km.InsufficientMemoryError):
            km.solve(p, method="cpsat", top_k=k, memory_limit=1e-7)
    assert km.solve(p, method="flow", top_k=big).assignments == km.solve(p, method="flow").assignments


@pytest.mark.parametrize("call, text", [
    (lambda p: km.estimate_arcs(p, k=0), "'k' parameter of estimate_arcs must be an integer >= 1 or None. Got 0"),
    (lambda p: km.estimate_arcs(p, k="3"), "'k' parameter of estimate_arcs must be an integer >= 1 or None. Got '3'"),
    (lambda p: km.estimate_arcs(p, sample=float("nan")), "'sample' parameter of estimate_arcs must be an integer >= 1"),
    (lambda p: km.estimate_arcs(p, sample=True), "'sample' parameter of estimate_arcs must be an integer >= 1"),
    (lambda p: km.estimate_arcs(p, sample=[1]), "'sample' parameter of estimate_arcs must be an integer >= 1"),
    (lambda p: km.estimate_arcs("p.json"), "'problem' parameter of estimate_arcs must be a Problem"),
    (lambda p: arc_estimate(p, sample=0), "'sample' parameter of arc_estimate must be an integer >= 1. Got 0"),
    (lambda p: km.build_candidates(p, "max_hours", k=0), "'k' parameter of build_candidates must be an integer >= 1"),
    (lambda p: km.build_candidates(p, "max_hours", k=1.5), "'k' parameter of build_candidates must be an integer"),
    (lambda p: km.build_candidates(p, "max_hours", k=False), "'k' parameter of build_candidates must be an integer"),
    (lambda p: km.build_candidates(p, "max_hours", k=float("nan")), "'k' parameter of build_candidates must be"),
    (lambda p: km.build_candidates(p, "max_hours", stop=True), "'stop' parameter of build_candidates must be a "
                                                                "callable or None. Got True instead."),
    (lambda p: km.build_candidates(p, "max_hours", rank="max_hours"), "'rank' parameter of build_candidates "
                                                                      "applies only with k"),
    (lambda p: km.build_candidates(None, "max_hours"), "'problem' parameter of build_candidates must be a Problem"),
])
def test_graph_functions_name_a_bad_parameter(call, text):
    p = km.synth.city(employees=20, seed=0)
    with pytest.raises(km.InvalidParameterError) as err:
        call(p)
    assert text in str(err.value)


def test_refusal_names_the_estimate_and_a_route():
    p = km.synth.france(departement="35", scale=0.05, seed=0)  # ~35 arcs per employee
    est = arc_estimate(p)
    arcs = est.arcs
    limit = est.low() * memory.BYTES_PER_ARC["flow"] / 2**30 / 2  # half of what the full graph needs
    with pytest.raises(km.InsufficientMemoryError) as info:
        km.solve(p, method="flow", memory_limit=limit)
    err = info.value
    assert isinstance(err, MemoryError) and isinstance(err, km.KoeeoMatchError)
    assert err.arcs == arcs and err.route.startswith("top_k=")
    assert f"{arcs:,} arcs" in str(err) and err.route in str(err) and "memory_limit" in str(err)
    k = int(err.route.split("=")[1])
    assert km.solve(p, method="flow", top_k=k, memory_limit=limit).metrics["top_k"] == k  # the route fits


def test_pipeline_and_sweep_refuse_like_solve():
    p = km.synth.city(employees=300, seed=1, rules="flow")
    tiny = km.estimate_arcs(p) * memory.BYTES_PER_ARC["flow"] / 2**30 / 2
    with pytest.raises(km.InsufficientMemoryError, match="method='flow'"):
        km.pipeline.run(p, method="flow", progress=None, memory_limit=tiny)
    with pytest.raises(km.InsufficientMemoryError, match="method='flow'"):
        km.sweep(p, methods=["flow"], memory_limit=tiny)
    assert km.pipeline.run(p, method="flow", progress=None, memory_limit=64).violations == 0


def test_cpsat_is_refused_where_auto_fits():
    p = km.synth.city(employees=300, seed=0, rules="flow")
    need = km.estimate_arcs(p) * memory.BYTES_PER_ARC["auto"] / 2**30
    with pytest.raises(km.InsufficientMemoryError, match="method='auto'"):
        km.solve(p, method="cpsat", memory_limit=need * 1.5)
    assert km.solve(p, method="auto", memory_limit=need * 1.5).status.value == "optimal"


def test_a_solve_that_fits_is_unchanged():
    p = km.synth.city(employees=120, seed=4, rules="flow")
    a = km.solve(p, method="flow")
    for limit in (None, math.inf, 64.0):
        b = km.solve(p, method="flow", memory_limit=limit)
        assert b.assignments == a.assignments and b.objective == a.objective


def test_unknown_memory_refuses_nothing(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    p = km.synth.city(employees=100, seed=0, rules="flow")
    memory.check_memory(p, "cpsat")  # no limit known, none given: nothing refused


@pytest.mark.parametrize("bad", [0, -1.0, "2", float("nan")])
def test_memory_limit_is_validated(bad):
    p = km.synth.city(employees=30, seed=0, rules="flow")
    with pytest.raises(ValueError, match="'memory_limit' parameter of solve"):
        km.solve(p, memory_limit=bad)


def test_cli_prints_the_refusal_as_one_message_exit_2(tmp_path, monkeypatch, capsys):
    problem = tmp_path / "p.json"
    assert main(["generate", "--region", "Bretagne", "--employees", "150", "--seed", "3", "-o", str(problem)]) == 0
    capsys.readouterr()
    monkeypatch.setattr(memory, "available_memory", lambda: 1000.0)
    assert main(["solve", str(problem), "-o", str(tmp_path / "s.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "GiB are available (MemAvailable)" in err and "Traceback" not in err
    assert main(["solve", str(problem), "-o", str(tmp_path / "s.json"), "-q", "--memory-limit", "inf"]) == 0


def test_cpsat_with_a_limit_too_short_to_build_its_model_answers_instead_of_refusing():
    """Issue 17: the memory CP-SAT's search would take (14,000 bytes an arc) is never needed when
    the time limit ends before its model is built (at least CPSAT_BUILD_SECONDS_PER_ARC an arc):
    the greedy start is the answer.  Without a limit, or with one long enough to build and search
    the model, the refusal stands."""
    p = km.synth.city(employees=300, seed=0, rules="all")
    arcs = km.estimate_arcs(p)
    limit = arcs * memory.BYTES_PER_ARC["cpsat"] / 2**30 / 2  # half of what CP-SAT's search needs
    assert arcs * memory.CPSAT_UNBUILT_BYTES_PER_ARC / 2**30 < limit
    short = arcs * memory.CPSAT_BUILD_SECONDS_PER_ARC / 4  # a quarter of the quickest model building
    sol = km.solve(p, method="cpsat", time_limit=short, memory_limit=limit)
    assert sol.status == km.Status.FEASIBLE and sol.termination == km.Termination.TIME_LIMIT, sol
    assert km.check(p, sol) == [] and sol.bound is not None and sol.bound >= sol.objective
    assert "could not be built within the time limit" in sol.message, sol.message
    with pytest.raises(km.InsufficientMemoryError, match="method='cpsat'") as info:
        km.solve(p, method="cpsat", memory_limit=limit)
    assert "time_limit" not in str(info.value).split("To try anyway")[0]
    with pytest.raises(km.InsufficientMemoryError, match=r"Within time_limit=60 s its model could be built"):
        km.solve(p, method="cpsat", time_limit=60, memory_limit=limit)
    # what the graph and the greedy start need must still fit
    tiny = arcs * memory.CPSAT_UNBUILT_BYTES_PER_ARC / 2**30 / 2
    with pytest.raises(km.InsufficientMemoryError, match="600 bytes per arc"):
        km.solve(p, method="cpsat", time_limit=short, memory_limit=tiny)


def test_cpsat_does_not_search_a_model_built_that_would_not_fit():
    """The safety net behind the check up front: on a machine quick enough to build the model
    within the time limit, a model whose search would not fit in ``SolveOptions.memory_bytes`` is
    not searched: the greedy start, the one-pass bound, and a message that says why."""
    p = km.synth.city(employees=300, seed=0, rules="all")
    g = km.build_candidates(p, "max_hours")
    need = len(g) * cpsat.SEARCH_BYTES_PER_ARC
    res = cpsat.solve_cpsat(p, g, SolveOptions(time_limit=60, memory_bytes=need / 2))
    assert res.status == km.Status.FEASIBLE and res.termination == km.Termination.COMPLETED, res
    built = f"CP-SAT's model of {len(g):,} arcs was built, but its search would need"
    assert res.message.startswith(built), res.message
    assert np.array_equal(np.sort(res.selected), np.sort(greedy_from(p, g).selected))
    assert res.bound is not None and res.bound >= int(g.score[res.selected].sum())
    searched = cpsat.solve_cpsat(p, g, SolveOptions(time_limit=60, memory_bytes=need * 2))
    assert searched.status == km.Status.OPTIMAL, searched  # it fits: searched (and proven)
    assert memory.BYTES_PER_ARC["cpsat"] == cpsat.SEARCH_BYTES_PER_ARC


def test_a_pricing_route_refused_names_the_method_asked_for():
    """``auto`` on an every-rule problem under a tiny memory_limit was refused as "method='flow' on the
    candidate graph capped at top_k=5", a method and cap the user never asked for (a helper's run of the docs).
    The refusal names ``auto`` and its route."""
    p = km.synth.region("Bretagne", employees=300, seed=0)
    with pytest.raises(km.InsufficientMemoryError) as err:
        km.solve(p, memory_limit=1e-6)
    msg = str(err.value)
    assert msg.startswith("method='auto' (its relaxed route, whose start graph keeps each node's 5 best arcs)")
    assert "method='flow'" not in msg and err.value.arcs > 0
    with pytest.raises(km.InsufficientMemoryError, match=r"^method='auto' \(its relaxed route"):
        km.pipeline.run(p, memory_limit=1e-6, progress=None)  # the pipeline's own routing said it too


def test_a_priced_route_refused_names_its_route(monkeypatch):
    import koeeo_match.engine as engine

    monkeypatch.setattr(engine, "PRICED_MIN_ARCS", 0)  # a small instance on the priced route
    p = km.synth.city(employees=200, seed=0, rules="flow")
    for call in (lambda: km.solve(p, memory_limit=1e-7), lambda: km.pipeline.run(p, memory_limit=1e-7, progress=None)):
        with pytest.raises(km.InsufficientMemoryError, match=r"^method='auto' \(its priced route, whose start graph"):
            call()


def test_a_graph_that_clearly_fits_is_checked_on_a_small_sample(monkeypatch):
    """The memory check samples DECIDE_SAMPLE employees first and stops there when the graph fits
    at that sample's upper bound: the 2,048-employee sample took 0.2 s of a 0.3 s limit on a
    30,000-employee city.  A graph that does not clearly fit is sampled as before."""
    from koeeo_match.candidates import DECIDE_SAMPLE, _estimate

    asked: list[int] = []
    real = _estimate._arc_estimate
    monkeypatch.setattr(_estimate, "_arc_estimate", lambda p, k, sample: asked.append(sample) or real(p, k, sample))
    p = km.synth.city(employees=5000, seed=3, rules="flow")
    limit = 1e-3 + p.n_employees * p.n_missions * memory.bytes_per_arc(p, "flow", None) / 2**30 / 4
    memory.check_memory(p, "flow", memory_limit=limit)  # all pairs would not fit; the sampled graph does
    assert asked == [DECIDE_SAMPLE]
    with pytest.raises(km.InsufficientMemoryError):
        memory.check_memory(p, "flow", memory_limit=1e-6)
    assert asked == [DECIDE_SAMPLE, _estimate.SAMPLE]
    # a small sample without arcs proves nothing (a rare skill's arcs can all be missed): sampled further
    asked.clear()
    q = km.synth.city(employees=5000, seed=4, rules="flow")
    monkeypatch.setattr(_estimate, "_arc_estimate", lambda p, k, sample: asked.append(sample) or (
        _estimate.ArcEstimate(0, 0.0, False) if sample == DECIDE_SAMPLE else real(p, k, sample)))
    memory.check_memory(q, "flow", memory_limit=limit)
    assert asked == [DECIDE_SAMPLE, _estimate.SAMPLE]
