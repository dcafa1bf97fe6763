"""Independent parts of a candidate graph.

Employees and missions joined by no chain of candidate arcs cannot affect each
other, so their parts are solved apart.  :func:`components` labels connected
components (``scipy.sparse.csgraph``); :func:`pack` groups small components
into parts of a target size so that a national instance gives a few dozen
parts, not a million tiny solves.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["components", "pack"]


def components(n_left: int, n_right: int, left: np.ndarray, right: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of a bipartite graph given as arc endpoint arrays.

    Returns ``(n, label)`` with ``label`` of length ``n_left + n_right``
    (left nodes first).

    >>> components(3, 2, np.array([0, 1]), np.array([0, 0]))[0]
    3
    """
    n = n_left + n_right
    adj = sp.coo_matrix(
        (np.ones(left.size, np.int8), (left.astype(np.int64), n_left + right.astype(np.int64))), shape=(n, n)
    ).tocsr()
    return connected_components(adj, directed=False)


def pack(sizes: np.ndarray, target: int) -> np.ndarray:
    """Part id per component: components larger than ``target`` alone, smaller ones
    merged (largest first) until a part reaches ``target``.  Deterministic.

    >>> pack(np.array([5, 1, 1, 9]), 6).tolist()
    [1, 1, 2, 0]
    """
    order = np.argsort(-sizes, kind="stable")
    part = np.empty(sizes.size, np.int64)
    current, fill = -1, target
    for c, s in zip(order.tolist(), sizes[order].tolist()):
        if fill + s > target:
            current += 1
            fill = 0
        part[c] = current
        fill += s
    return part
