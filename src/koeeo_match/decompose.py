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

__all__ = ["components", "pack", "packed_parts"]


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


def packed_parts(comp: np.ndarray, target: int) -> list[np.ndarray]:
    """Item indices grouped into parts, largest first (items in index order within a part):
    ``comp`` is the component of each item (e.g. of each arc), and components are packed into
    parts of about ``target`` items by :func:`pack`.

    >>> [c.tolist() for c in packed_parts(np.array([0, 1, 0, 2]), 2)]
    [[0, 2], [1, 3]]
    """
    if comp.size == 0:
        return []
    part = pack(np.bincount(comp), target)[comp]
    n_parts = int(part.max()) + 1
    order = np.argsort(part.astype(np.uint16 if n_parts < 2**16 else np.int64), kind="stable")  # radix sort
    cuts = np.cumsum(np.bincount(part, minlength=n_parts))[:-1]
    return sorted(np.split(order, cuts), key=lambda c: -c.size)
