"""The peer methods, each on a given candidate graph.

Each function takes ``(problem, graph, time_limit)`` and returns a dict with
``selected`` (arc indices into the graph), ``status`` (the solver's word),
``optimal_on_graph`` (bool: the method proves optimality of the arc scores on
this graph), ``score_bound`` (upper bound on the sum of integer arc scores, or
None) and free-form ``stats``.
"""

from __future__ import annotations

import numpy as np

from .common import say


def _unit_capacity(problem) -> int:
    """Missions per employee: exact only when every duration and entitlement is the same multiple."""
    mh = np.unique(problem.missions.hours)
    eh = np.unique(problem.employees.hours)
    if mh.size != 1 or eh.size != 1 or eh[0] % mh[0] != 0:
        raise ValueError("the peer networks need one mission duration and one entitlement (rules='flow' instances)")
    return int(eh[0] // mh[0])


def _employer_groups(problem, graph):
    """Per arc, the (mission, employer) group id where the mission caps volunteers per employer (-1: none)."""
    ea, ma = graph.employee, graph.mission
    mpe = problem.missions.max_per_employer[ma]
    emp = problem.employees.employer[ea]
    capped = (mpe >= 0) & (emp >= 0)
    gid = np.full(ea.size, -1, np.int64)
    if not capped.any():
        return gid, np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = ma[capped].astype(np.int64) * max(len(problem.employers), 1) + emp[capped]
    uniq, inv = np.unique(key, return_inverse=True)
    gid[capped] = inv.reshape(-1)
    g_mission = uniq // max(len(problem.employers), 1)
    g_cap = problem.missions.max_per_employer[g_mission].astype(np.int64)
    return gid, g_mission, g_cap


def network(problem, graph, *, employer_layer: bool = True):
    """The single network (node 0 source, 1 sink, employees, missions, [mission, employer] groups).

    Returns ``(tails, heads, caps, costs, first_candidate_arc, supply)``; candidate arc ``a`` of the
    graph is network arc ``first_candidate_arc + a``; the last arc is the source -> sink bypass.
    """
    E, M = graph.n_employees, graph.n_missions
    k = _unit_capacity(problem)
    ea, ma = graph.employee.astype(np.int64), graph.mission.astype(np.int64)
    e0, m0 = 2, 2 + E
    right = m0 + ma
    g_tails = g_heads = g_caps = np.zeros(0, np.int64)
    if employer_layer:
        gid, g_mission, g_cap = _employer_groups(problem, graph)
        g0 = m0 + M
        has = gid >= 0
        right[has] = g0 + gid[has]
        g_tails, g_heads, g_caps = g0 + np.arange(g_mission.size), m0 + g_mission, g_cap
    tails = [np.zeros(E, np.int64), e0 + ea, g_tails, m0 + np.arange(M), [0]]
    heads = [e0 + np.arange(E), right, g_heads, np.ones(M, np.int64), [1]]
    caps = [np.full(E, k, np.int64), np.ones(ea.size, np.int64), g_caps,
            problem.missions.seats.astype(np.int64), [k * E]]
    costs = [np.zeros(E, np.int64), -graph.score.astype(np.int64), np.zeros(g_caps.size, np.int64),
             np.zeros(M, np.int64), [0]]
    cat = lambda xs: np.concatenate([np.asarray(x, np.int64) for x in xs])  # noqa: E731
    return cat(tails), cat(heads), cat(caps), cat(costs), E, k * E


def mcf_peer(problem, graph, time_limit=None, *, employer_layer: bool = True) -> dict:
    """One monolithic OR-Tools SimpleMinCostFlow, a single ``solve()``."""
    from ortools.graph.python import min_cost_flow

    tails, heads, caps, costs, first, supply = network(problem, graph, employer_layer=employer_layer)
    say(f"  mcf-peer: {tails.size:,} arcs, {int(max(tails.max(), heads.max())) + 1:,} nodes")
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    f.set_nodes_supplies(np.array([0, 1], np.int64), np.array([supply, -supply], np.int64))
    status = f.solve()
    if status != f.OPTIMAL:
        return {"selected": np.zeros(0, np.int64), "status": str(status), "optimal_on_graph": False,
                "score_bound": None, "stats": {}}
    flows = f.flows(np.arange(first, first + len(graph), dtype=np.int64))
    selected = np.flatnonzero(flows > 0)
    cost = int(f.optimal_cost())
    if -cost != int(graph.score[selected].sum()):
        raise RuntimeError("mcf-peer: optimal cost and selected arcs disagree")
    return {"selected": selected, "status": "OPTIMAL", "optimal_on_graph": True,
            "score_bound": float(-cost), "stats": {"network_arcs": int(tails.size)}}


def mcf_peer_plain(problem, graph, time_limit=None) -> dict:
    return mcf_peer(problem, graph, time_limit, employer_layer=False)


def networkx_flow(problem, graph, time_limit=None) -> dict:
    """``nx.network_simplex`` on the mcf-peer network (with the [mission, employer] layer)."""
    import networkx as nx

    tails, heads, caps, costs, first, supply = network(problem, graph, employer_layer=True)
    G = nx.DiGraph()
    G.add_node(0, demand=-supply)
    G.add_node(1, demand=supply)
    G.add_edges_from(
        (int(t), int(h), {"capacity": int(c), "weight": int(w)})
        for t, h, c, w in zip(tails.tolist(), heads.tolist(), caps.tolist(), costs.tolist())
    )
    say(f"  networkx: {G.number_of_edges():,} edges, {G.number_of_nodes():,} nodes")
    cost, flow = nx.network_simplex(G)
    ct, ch = tails[first : first + len(graph)].tolist(), heads[first : first + len(graph)].tolist()
    selected = np.array([a for a, (t, h) in enumerate(zip(ct, ch)) if flow[t][h] > 0], np.int64)
    if -int(cost) != int(graph.score[selected].sum()):
        raise RuntimeError("networkx: optimal cost and selected arcs disagree")
    return {"selected": selected, "status": "optimal", "optimal_on_graph": True,
            "score_bound": float(-int(cost)), "stats": {"network_arcs": int(tails.size)}}


def scipy_matching(problem, graph, time_limit=None) -> dict:
    """``min_weight_full_bipartite_matching`` on the one-to-one reduction (seats expanded, one dummy each)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    if _unit_capacity(problem) != 1:
        raise ValueError("the one-to-one reduction needs one mission per employee")
    E, M = graph.n_employees, graph.n_missions
    seats = problem.missions.seats.astype(np.int64)
    col0 = np.zeros(M + 1, np.int64)
    np.cumsum(seats, out=col0[1:])
    n_seat = int(col0[-1])
    ea, ma = graph.employee.astype(np.int64), graph.mission.astype(np.int64)
    rep = seats[ma]
    arc_of = np.repeat(np.arange(ea.size), rep)
    within = np.arange(arc_of.size) - np.repeat(np.cumsum(rep) - rep, rep)
    rows = np.concatenate([ea[arc_of], np.arange(E)])
    cols = np.concatenate([col0[ma][arc_of] + within, n_seat + np.arange(E)])
    data = np.concatenate([graph.score[arc_of].astype(np.float64) + 1.0, np.ones(E)])
    A = csr_matrix((data, (rows, cols)), shape=(E, n_seat + E))
    say(f"  scipy: {E:,} x {n_seat + E:,} matrix, {A.nnz:,} entries")
    r, c = min_weight_full_bipartite_matching(A, maximize=True)
    real = c < n_seat
    er, mr = r[real].astype(np.int64), np.searchsorted(col0, c[real], side="right") - 1
    keys = ea * M + ma  # the graph is sorted by (employee, mission): keys are increasing
    selected = np.searchsorted(keys, er * M + mr)
    if not (keys[selected] == er * M + mr).all():
        raise RuntimeError("scipy: a matched pair is not a candidate arc")
    return {"selected": np.sort(selected), "status": "optimal", "optimal_on_graph": True,
            "score_bound": float(graph.score[selected].sum()),
            "stats": {"matrix_entries": int(A.nnz), "matrix_shape": [E, n_seat + E]}}


def cpsat(problem, graph, time_limit=None) -> dict:
    """The library's CP-SAT solver on the graph (what ``km.solve(method="cpsat", top_k=5)`` runs)."""
    from koeeo_match.solvers import REGISTRY, SolveOptions

    raw = REGISTRY["cpsat"](problem, graph, SolveOptions(time_limit=time_limit, seed=0))
    return {"selected": np.asarray(raw.selected, np.int64), "status": raw.status.value,
            "optimal_on_graph": raw.status.value == "optimal",
            "score_bound": None if raw.bound is None else float(raw.bound),
            "stats": {"message": raw.message,
                      **{k: v for k, v in raw.stats.items() if isinstance(v, (int, float, str))}}}


def repair_max_per_employer(problem, graph, selected: np.ndarray) -> np.ndarray:
    """Drop the lowest-score extras of every (mission, employer) over its cap (a feasible remainder)."""
    gid, _, g_cap = _employer_groups(problem, graph)
    sel = np.asarray(selected, np.int64)
    g = gid[sel]
    order = np.lexsort((-graph.score[sel], g))
    gs = g[order]
    start = np.ones(gs.size, bool)
    start[1:] = gs[1:] != gs[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(gs.size), 0))
    rank = np.arange(gs.size) - first
    keep = (gs < 0) | (rank < g_cap[np.maximum(gs, 0)] if g_cap.size else gs < 0)
    return np.sort(sel[order][keep])


PEERS = {
    "mcf-peer": mcf_peer,
    "mcf-peer-plain": mcf_peer_plain,
    "networkx": networkx_flow,
    "scipy-matching": scipy_matching,
    "cpsat": cpsat,
}
