"""Node potentials of an optimal min-cost flow: the dual certificate of its optimality.

OR-Tools' ``SimpleMinCostFlow`` gives flows, not potentials.  A flow is optimal exactly when
its residual network has no negative cycle; then shortest-path distances from a virtual
root joined to every node at cost 0 are potentials ``d`` with ``cost(u, v) + d[u] - d[v] >= 0``
on every residual arc (:func:`potentials`, a Bellman-Ford that only relaxes the arcs leaving
the nodes improved in the previous pass).  :func:`reduced_costs_ok` checks them in integers:
an arc added with no flow keeps the flow optimal when its reduced cost is non-negative, which
is what pricing tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._arrays import csr_ptr
from ..errors import SolverError

__all__ = ["residual", "potentials", "reduced_costs_ok"]


def residual(tail: np.ndarray, head: np.ndarray, cap: np.ndarray, cost: np.ndarray,
             flow: np.ndarray, extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
             by_tail: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The residual arcs ``(tail, head, cost)`` of a flow: forward where it is below capacity,
    backward (cost negated) where it is positive; then the residual arcs ``extra``, if given.
    ``by_tail``: sorted by tail (stable), as :func:`potentials` reads them, one array at a time
    (a national network's residual is gigabytes: no second copy of all three at once).

    >>> residual(np.array([0]), np.array([1]), np.array([2]), np.array([5]), np.array([1]))
    (array([0, 1]), array([1, 0]), array([ 5, -5]))
    >>> residual(np.array([1]), np.array([2]), np.array([2]), np.array([5]), np.array([1]),
    ...          extra=(np.array([0]), np.array([1]), np.array([7])), by_tail=True)
    (array([0, 1, 2]), array([1, 2, 1]), array([ 7,  5, -5]))
    """
    fwd = flow < cap
    bwd = flow > 0
    ex: tuple[np.ndarray, ...] = extra if extra is not None else (np.zeros(0, tail.dtype),) * 3
    rt = np.concatenate([tail[fwd], head[bwd], ex[0]])
    order = np.argsort(rt, kind="stable") if by_tail else None
    if order is not None:
        rt = rt[order]
    rh = np.concatenate([head[fwd], tail[bwd], ex[1]])
    if order is not None:
        rh = rh[order]
    rw = np.concatenate([cost[fwd], -cost[bwd], ex[2]])
    if order is not None:
        rw = rw[order]
    return rt, rh, rw


def potentials(n_nodes: int, tail: np.ndarray, head: np.ndarray, cost: np.ndarray, *,
               d0: np.ndarray | None = None, max_passes: int | None = None,
               stall: int | None = None, stop: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Shortest distances from a virtual root joined to every node at cost 0, over the arcs
    ``tail -> head`` (a residual network: costs may be negative, cycles may not).

    Returns the largest potentials ``d <= 0`` with ``cost + d[tail] - d[head] >= 0`` on every
    arc.  From ``d0`` (potentials that held before a few arcs changed), the largest such
    ``d <= d0``: only what the changed arcs reach is relaxed.  Raises
    :class:`~koeeo_match.errors.SolverError` on a negative cycle (the flow was not optimal);
    with ``max_passes``, returns None instead when that many passes do not settle, and with
    ``stall`` as well when, after ``2 * stall`` passes, the nodes improved do not fall by a
    tenth from one pass to the pass ``stall`` passes later (a negative cycle keeps improving
    the same nodes; a settling search improves fewer and fewer).

    >>> potentials(3, np.array([0, 1]), np.array([1, 2]), np.array([-2, 1])).tolist()
    [0, -2, -1]
    """
    d = np.zeros(n_nodes, np.int64) if d0 is None else d0.astype(np.int64, copy=True)
    if tail.size == 0:
        return d
    if bool((tail[1:] >= tail[:-1]).all()):  # sorted already (residual(..., by_tail=True)): no copies
        t, h, w = tail, head, cost.astype(np.int64, copy=False)
    else:
        order = np.argsort(tail, kind="stable")
        t, h, w = tail[order], head[order], cost[order].astype(np.int64)
    ptr = csr_ptr(t, n_nodes)
    mark = np.zeros(n_nodes, bool)  # the nodes improved in a pass, when many: a mask, no sort or hash
    active = _distinct(t[w + d[t] - d[h] < 0], mark)  # only arcs of negative reduced cost improve anything
    passes = 0
    seen = active.size
    while active.size:
        passes += 1
        if max_passes is not None and passes > max_passes or stop is not None and stop():
            return None
        if passes > n_nodes + 1:
            if max_passes is not None:
                return None
            raise SolverError("The residual network has a negative cycle: the flow is not optimal.")
        starts = ptr[active]
        lens = ptr[active + 1] - starts
        total = int(lens.sum())
        if total == 0:
            break
        idx = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
        cand = d[t[idx]] + w[idx]
        better = cand < d[h[idx]]
        if not better.any():
            break
        hb, cb = h[idx][better], cand[better]
        np.minimum.at(d, hb, cb)
        active = _distinct(hb, mark)
        if stall and max_passes is not None and passes % stall == 0:
            if passes > 2 * stall and active.size > 0.9 * seen:
                return None
            seen = active.size
    return d


def _distinct(nodes: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """The distinct ``nodes``, sorted: by a sort when they are few against the ``mark`` array's
    length (a pass's cost then follows the nodes improved, not the network), by marking them
    when they are many (``mark`` is all False before and after).

    >>> mark = np.zeros(5, bool)
    >>> _distinct(np.array([3, 1, 3]), mark).tolist(), bool(mark.any())
    ([1, 3], False)
    >>> _distinct(np.array([3, 1, 3]), np.zeros(1000, bool)).tolist()
    [1, 3]
    """
    if nodes.size * 32 < mark.size:
        return np.unique(nodes)
    mark[nodes] = True
    out = np.flatnonzero(mark)
    mark[out] = False
    return out


def reduced_costs_ok(d: np.ndarray, tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> bool:
    """Whether ``cost + d[tail] - d[head] >= 0`` on every arc (the potentials certify the flow).

    >>> reduced_costs_ok(np.array([0, -2]), np.array([0]), np.array([1]), np.array([-2]))
    True
    """
    return bool((cost + d[tail] - d[head] >= 0).all())
