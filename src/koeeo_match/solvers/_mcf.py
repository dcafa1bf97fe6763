"""One min-cost flow, by the faster of the solvers installed for its size.

Every exact flow of the library (:mod:`.flow`, the rounds of the priced route) is solved by
:func:`min_cost_flow`: node 0 ships ``supply`` units to node 1 over arcs ``t -> h`` with
capacities and integer unit costs, through a zero-cost bypass ``0 -> 1`` (assigning is
optional), or, ``by_max_flow``, as a maximum flow of least cost.

Two solvers can do it, both exact:

- OR-Tools' cost-scaling push-relabel (``SimpleMinCostFlow``, a core dependency);
- LEMON's network simplex, through the ``pylmcf`` package (the optional extra ``fast``:
  ``pip install 'koeeo-match[fast]'``), with the candidate-list pivot rule.

On the maximum flows of the priced route, LEMON took 0.23 to 0.38 times OR-Tools' time at 0.3 to
0.5 M arcs and 0.50 to 0.57 times at 1.3 to 1.5 M (re-measured at commit 8ee1793), but 1.7 to 2.2
times at 4.9 to 6.5 M (commit f31fd81)
(``benchmarks/results/flow_solvers.json``; docs/solvers.md, "The flow solver"): a network goes
to LEMON when ``pylmcf`` is installed and it has at most :data:`LEMON_MAX_ARCS` arcs, to
OR-Tools otherwise.  At ties the two may return different
optimal flows of the same cost: a solve's output depends on whether the extra is installed
(and is deterministic given that).

pylmcf takes only non-negative costs: the costs are made reduced costs by
potentials that keep every arc non-negative (:func:`._potentials.potentials`; the networks
are acyclic), which adds the same constant to every source-to-sink path and so keeps the
optimal flows.  A maximum flow of least cost gets a bypass dearer than any augmenting path (whose
reduced cost is at most ``(nodes - 1) * max(reduced cost)``): a flow of least cost then ships
exactly the maximum flow (at most ``supply``), with no maximum flow solved first.  LEMON does not check its int64
arithmetic: a network whose total cost could overflow it goes to OR-Tools, which does.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow as ortools_mcf

from ..errors import SolverError
from ._potentials import potentials

__all__ = ["min_cost_flow", "solver_for", "LEMON_MAX_ARCS", "HAS_LEMON"]

#: Networks of at most this many arcs go to LEMON's network simplex when ``pylmcf`` is installed.
LEMON_MAX_ARCS = 1_500_000
try:  # a pylmcf that is installed but cannot load is as good as none: OR-Tools then solves every flow
    import pylmcf as _pylmcf
except Exception:  # ImportError, or its extension's own errors
    _pylmcf = None
#: Whether ``pylmcf`` (LEMON) is there; tests set it False to use OR-Tools alone.
HAS_LEMON = _pylmcf is not None
#: LEMON does not check its arithmetic: a network whose costs times capacities could reach this total
#: goes to OR-Tools (which does).
_COST_LIMIT = 2.0**62


def solver_for(n_arcs: int) -> str:
    """The solver :func:`min_cost_flow` uses on a network of ``n_arcs`` arcs: ``"lemon"`` or
    ``"ortools"``.

    >>> solver_for(LEMON_MAX_ARCS + 1)
    'ortools'
    """
    return "lemon" if HAS_LEMON and n_arcs <= LEMON_MAX_ARCS else "ortools"


def min_cost_flow(t: np.ndarray, h: np.ndarray, c: np.ndarray, w: np.ndarray, supply: int,
                  by_max_flow: bool) -> tuple[np.ndarray, int]:
    """(flow on every arc, optimal cost) of the network: ``supply`` units from node 0 to
    node 1 over arcs ``t -> h`` (capacities ``c``, costs ``w``, int64), optionally (a zero-cost
    bypass), or as a maximum flow of least cost (``by_max_flow``).

    >>> f, cost = min_cost_flow(np.array([0, 0, 2, 3]), np.array([2, 3, 1, 1]), np.array([1, 1, 1, 1]),
    ...                         np.array([-5, 2, 0, 0]), 2, False)
    >>> f.tolist(), cost
    ([1, 0, 1, 0], -5)
    """
    t, h, c, w = (np.ascontiguousarray(x, dtype=np.int64) for x in (t, h, c, w))
    if solver_for(t.size) == "lemon":
        return _lemon(t, h, c, w, supply, by_max_flow)
    return _ortools(t, h, c, w, supply, by_max_flow)


def _ortools(t: np.ndarray, h: np.ndarray, c: np.ndarray, w: np.ndarray, supply: int,
             by_max_flow: bool) -> tuple[np.ndarray, int]:
    flow = ortools_mcf.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(t, h, c, w)
    if not by_max_flow:  # the bypass, arc t.size (added alone: no copy of the arrays, 0.9 GB at national scale)
        flow.add_arc_with_capacity_and_unit_cost(0, 1, supply, 0)
    flow.set_nodes_supplies(np.array([0, 1], np.int64), np.array([supply, -supply], np.int64))
    status = flow.solve_max_flow_with_min_cost() if by_max_flow else flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"OR-Tools min-cost flow returned status {status!r} (expected OPTIMAL).")
    return flow.flows(np.arange(t.size, dtype=np.int64)), int(flow.optimal_cost())


def _total(w: np.ndarray, c: np.ndarray) -> float:
    """An upper bound on the magnitude of any flow's cost (in floats: it may exceed int64)."""
    return float(np.abs(w).astype(np.float64) @ c.astype(np.float64))


def _lemon(t: np.ndarray, h: np.ndarray, c: np.ndarray, w: np.ndarray, supply: int,
           by_max_flow: bool) -> tuple[np.ndarray, int]:
    """LEMON's network simplex, or OR-Tools where LEMON's unchecked int64 arithmetic could overflow."""
    t0, h0, c0, w0 = t, h, c, w
    n = t.size
    if not by_max_flow:  # the bypass: a unit of ``supply`` that no employee takes costs nothing
        t, h, c, w = np.append(t, 0), np.append(h, 1), np.append(c, supply), np.append(w, 0)
    n_nodes = int(max(t.max(initial=1), h.max(initial=1))) + 1
    # reduced costs w + pi[t] - pi[h] >= 0 (pylmcf takes no negative cost); the networks are acyclic
    pi = potentials(n_nodes, t, h, w)
    if pi is None:  # (only with max_passes, not given)
        raise SolverError("min-cost flow: no potentials for the network (internal error).")
    reduced = w + pi[t] - pi[h]
    if by_max_flow:
        # a maximum flow of least cost: a bypass dearer than any augmenting path can be (a simple
        # path's reduced cost is at most its forward arcs', so at most (n_nodes - 1) * max(reduced));
        # a flow of least cost then leaves no augmenting path unused and ships exactly
        # min(max flow, supply), with no max flow solved first (an arc without capacity is on no path)
        by_cost = (n_nodes - 1) * int(reduced[c > 0].max(initial=0)) + 1
        if by_cost >= _COST_LIMIT:  # (a Python int: it may not fit int64)
            return _ortools(t0, h0, c0, w0, supply, by_max_flow)
        t, h, c, w = np.append(t, 0), np.append(h, 1), np.append(c, supply), np.append(w, 0)
        reduced = np.append(reduced, by_cost)
    if max(_total(reduced, c), _total(w, c)) >= _COST_LIMIT:
        return _ortools(t0, h0, c0, w0, supply, by_max_flow)
    assert _pylmcf is not None
    order = np.argsort(t * n_nodes + h, kind="stable")  # pylmcf takes arcs sorted by (tail, head)
    g = _pylmcf.Graph(n_nodes, t[order], h[order])
    sup = np.zeros(n_nodes, np.int64)
    sup[0], sup[1] = supply, -supply
    g.set_node_supply(sup)
    g.set_edge_costs(np.ascontiguousarray(reduced[order]))
    g.set_edge_capacities(np.ascontiguousarray(c[order]))
    g.set_pivot_rule("candidate_list")
    try:
        g.solve()
    except RuntimeError as exc:  # INFEASIBLE: not a network of this library
        raise SolverError(f"LEMON network simplex: {exc}") from None
    f = np.empty(t.size, np.int64)
    f[order] = g.result()
    f = f[:n]
    return f, int((f * w[:n]).sum())
