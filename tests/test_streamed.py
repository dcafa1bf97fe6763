"""First come, first served without its full graph (koeeo_match.streamed): the same sign-ups as
fcfs on every eligible arc, block by block, arc for arc."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match.solvers import SolveOptions
from koeeo_match.solvers.fcfs import solve_fcfs
from koeeo_match.solvers.priced import priced_obstacles
from koeeo_match.streamed import solve_fcfs_streamed, streamed_route

from test_properties import SETTINGS, problems

POLICIES = ["max_hours", "balanced", "min_travel", "max_coverage", "territorial_equity"]


def _whole(problem, policy, seed):
    """fcfs on the full graph: its sign-ups as sorted index pairs, and the graph's scale."""
    g = km.build_candidates(problem, policy)
    sel = np.asarray(solve_fcfs(problem, g, SolveOptions(seed=seed)).selected, np.int64)
    return sorted(zip(g.employee[sel].tolist(), g.mission[sel].tolist())), g.scale


def _streamed(problem, policy, seed, scale, block, top):
    e, m, raw = solve_fcfs_streamed(problem, policy, SolveOptions(seed=seed), scale, block=block, top=top)
    return sorted(zip(e.tolist(), m.tolist())), raw


@settings(max_examples=80, **SETTINGS)
@given(records=problems(flow_friendly=True), pol=st.sampled_from(POLICIES), seed=st.integers(0, 3),
       block=st.integers(1, 5), top=st.integers(1, 3))
def test_streamed_fcfs_equals_fcfs_on_the_full_graph(records, pol, seed, block, top):
    """Random small problems, ties included: the same sign-ups, whatever the block and the list length."""
    problem = km.Problem.from_records(**records)
    assume(not priced_obstacles(problem))
    policy = km.Policy.preset(pol)
    want, scale = _whole(problem, policy, seed)
    got, _ = _streamed(problem, policy, seed, scale, block, top)
    assert got == want


def test_streamed_fcfs_equals_fcfs_on_regions_with_restarts():
    """Mid-size generated regions (max_per_employer, multi-day entitlements where the rules allow
    them), short lists so that blocks restart: the same sign-ups, and the restarts happen."""
    restarts = 0
    for seed in range(6):
        problem = km.synth.region("Bretagne", employees=300 + 60 * seed, seed=seed, rules="flow")
        assert not priced_obstacles(problem)
        policy = km.Policy.preset(POLICIES[seed % len(POLICIES)])
        want, scale = _whole(problem, policy, seed)
        for block, top in ((3, 1), (40, 2), (10**6, 8)):
            got, raw = _streamed(problem, policy, seed, scale, block, top)
            assert got == want, (seed, block, top)
            restarts += raw.stats["fcfs_streamed"]["restarts"]
    assert restarts > 0


def test_solve_takes_the_streamed_route_where_the_full_graph_does_not_fit():
    p = km.synth.city(employees=300, seed=2, rules="flow")
    s = km.solve(p, method="fcfs", seed=4, memory_limit=1e-6)  # as if the machine held no graph at all
    whole = km.solve(p, method="fcfs", seed=4)
    assert s.method == "fcfs:streamed" and whole.method == "fcfs"
    assert sorted(s.assignments) == sorted(whole.assignments)
    assert s.objective == whole.objective and s.bound is None and s.status == km.Status.FEASIBLE
    assert km.check(p, s) == []
    assert s.metrics["fcfs_streamed"]["blocks"] >= 1
    assert not streamed_route(p, "fcfs", None, None)  # it fits: the full graph is read
    assert not streamed_route(p, "fcfs", 5, 1e-6)  # a cap asked for: the capped graph


def test_a_rule_kept_across_blocks_is_refused_by_name():
    p = km.synth.city(employees=200, seed=1, rules="all")
    assert priced_obstacles(p)
    assert not streamed_route(p, "fcfs", None, 1e-6)
    with pytest.raises(km.UnsupportedError, match="cannot keep these rules across blocks"):
        solve_fcfs_streamed(p, km.Policy.preset("max_hours"), SolveOptions(), km.build_candidates(p, "max_hours").scale)


def test_a_time_limit_stops_between_blocks_with_the_sign_ups_made():
    p = km.synth.region("Bretagne", employees=600, seed=3, rules="flow")
    pol = km.Policy.preset("max_hours")
    want, scale = _whole(p, pol, 0)
    e, m, raw = solve_fcfs_streamed(p, pol, SolveOptions(seed=0, time_limit=1e-9), scale, block=50)
    assert raw.termination == km.Termination.TIME_LIMIT and e.size == 0 and "stopped" in raw.message
    e, m, raw = solve_fcfs_streamed(p, pol, SolveOptions(seed=0), scale, block=50)
    assert raw.termination == km.Termination.COMPLETED and len(want) == e.size


def test_ctrl_c_while_lists_are_drawn_stops_with_the_blocks_done(monkeypatch):
    """Ctrl-C (the flag its handler sets) while the second block's lists are drawn: the run stops,
    says interrupted, and keeps the first block's sign-ups, those of fcfs on the full graph. (The
    fcfs of each block has a Ctrl-C handler of its own, which clears the flag: it was lost.)"""
    import koeeo_match.streamed as streamed
    from koeeo_match.solvers import INTERRUPTED

    p = km.synth.region("Bretagne", employees=400, seed=5, rules="flow")
    pol = km.Policy.preset("max_hours")
    g = km.build_candidates(p, pol)
    drawn = []
    real = streamed._lists

    def lists(*a, **k):
        drawn.append(1)
        if len(drawn) == 2:
            INTERRUPTED.set()
        return real(*a, **k)

    monkeypatch.setattr(streamed, "_lists", lists)
    e, m, raw = solve_fcfs_streamed(p, pol, SolveOptions(seed=1), g.scale, block=100)
    assert raw.termination == km.Termination.INTERRUPTED and len(drawn) == 2
    first = set(np.random.default_rng(1).permutation(p.n_employees)[:100].tolist())
    assert e.size and set(e.tolist()) <= first
    whole = np.asarray(solve_fcfs(p, g, SolveOptions(seed=1)).selected, np.int64)
    mine = np.isin(g.employee[whole], list(first))
    assert sorted(zip(e.tolist(), m.tolist())) == sorted(zip(g.employee[whole][mine].tolist(),
                                                             g.mission[whole][mine].tolist()))


def test_fixed_pairs_do_not_take_the_streamed_route():
    """fixed= reduces the problem first; the streamed route starts from no sign-up, so it refuses
    (a request that fits nowhere is then refused up front, as before the route existed)."""
    p = km.synth.city(employees=200, seed=2, rules="flow")
    pinned = km.solve(p, method="fcfs").assignments[:1]
    with pytest.raises(km.InsufficientMemoryError):
        km.solve(p, method="fcfs", fixed=pinned, memory_limit=1e-6)
    assert km.check(p, km.solve(p, method="fcfs", fixed=pinned)) == []
