"""Independent parts of a candidate graph.

Employees and missions joined by no chain of candidate arcs cannot affect each
other, so their parts are solved apart.  :func:`components` labels connected
components (``scipy.sparse.csgraph``); :func:`cut` packs small components into
parts of a target size (:func:`pack`), so that a national instance gives a few
dozen parts, not a million tiny solves, and returns each as a :class:`Part`,
which maps a part's answer back to the whole.

This module sees arrays only (arc endpoints), never a candidate graph: a
solver takes a part's graph with ``graph.subset(part.arcs)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ._arrays import csr_ptr, present

__all__ = ["Part", "cut", "components", "pack"]


@dataclass(frozen=True, eq=False)
class Part:
    """One independent part of a graph, and its index maps back to the whole.

    Attributes
    ----------
    arcs : ndarray of int64
        Its arcs, as indices into the arc arrays that were cut, ascending (so
        a CSR graph's order by employee is kept).  Position ``i`` of a
        part-local arc array is arc ``arcs[i]`` of the whole.
    employees, missions : ndarray of int64
        Its employees and missions (every one with an arc in the part), as
        dense indices into the problem, ascending.  No other part of the same
        :func:`cut` holds them.

    Examples
    --------
    >>> (p,) = cut(np.array([0, 0, 2]), np.array([1, 0, 1]), 3, 2, target=10)
    >>> p.employees.tolist(), p.missions.tolist(), len(p)
    ([0, 2], [0, 1], 3)
    >>> p.to_whole(np.array([2])).tolist()  # the part's third arc
    [2]
    """

    arcs: np.ndarray
    employees: np.ndarray
    missions: np.ndarray

    def __len__(self) -> int:
        return int(self.arcs.size)

    @classmethod
    def of(cls, arcs: np.ndarray, employee: np.ndarray, mission: np.ndarray, n_employees: int,
           n_missions: int) -> Part:
        """The part holding ``arcs`` (indices into the endpoint arrays ``employee`` and ``mission``)
        of a graph with ``n_employees`` and ``n_missions`` nodes.

        >>> Part.of(np.array([2, 0]), np.array([0, 0, 1]), np.array([1, 0, 1]), 2, 2).employees.tolist()
        [0, 1]
        """
        arcs = np.sort(np.asarray(arcs, np.int64))
        return cls(arcs, present(employee[arcs], n_employees).astype(np.int64),
                   present(mission[arcs], n_missions).astype(np.int64))

    def to_local(self, arcs: np.ndarray) -> np.ndarray:
        """Part-local positions of arcs of the whole, every one in the part (the inverse of
        :meth:`to_whole`).

        >>> Part(np.array([3, 7, 9]), np.array([0]), np.array([1])).to_local(np.array([9, 3])).tolist()
        [2, 0]
        """
        arcs = np.asarray(arcs)
        pos = np.searchsorted(self.arcs, arcs)
        inside = pos < self.arcs.size
        inside[inside] = self.arcs[pos[inside]] == arcs[inside]
        if not inside.all():
            raise ValueError(f"Part.to_local: {int((~inside).sum())} arc(s) are not in the part, "
                             f"e.g. arc {int(arcs[~inside][0])}.")
        return pos

    def to_whole(self, selected: np.ndarray) -> np.ndarray:
        """Arc indices of the whole for part-local arc indices (or a boolean mask over the part).

        >>> Part(np.array([3, 7, 9]), np.array([0]), np.array([1])).to_whole(np.array([0, 2])).tolist()
        [3, 9]
        """
        return self.arcs[selected]


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
    order = order[sizes[order] > 0]  # empty components (nodes without arcs) join the last part, opening none
    part = np.zeros(sizes.size, np.int64)
    current, fill = -1, target
    for c, s in zip(order.tolist(), sizes[order].tolist()):
        if fill + s > target:
            current += 1
            fill = 0
        part[c] = current
        fill += s
    part[sizes <= 0] = max(current, 0)
    return part


def _grouped(part: np.ndarray, n_parts: int) -> list[np.ndarray]:
    """Item indices grouped by ``part`` (items with part ``-1`` left out), in index order within
    a group; one group per part id, in part id order."""
    on = part >= 0
    key = np.where(on, part, n_parts)
    order = np.argsort(key.astype(np.uint16 if n_parts < 2**16 - 1 else np.int64), kind="stable")  # radix sort
    cuts = csr_ptr(key, n_parts + 1)[1:-1]
    return np.split(order, cuts)[:n_parts]


def cut(employee: np.ndarray, mission: np.ndarray, n_employees: int, n_missions: int, target: int,
        label: np.ndarray | None = None) -> list[Part]:
    """The parts of a bipartite graph (arc endpoints ``employee``, ``mission``), largest first.

    Connected components are packed into parts of about ``target`` arcs by :func:`pack` (parts
    of equal size in the order :func:`pack` opened them).  ``label`` (a group per arc) replaces
    the components when the caller joins more than the arcs do, e.g. the staff of an employer
    whose daily cap couples them: each group must be a union of connected components of the
    arcs, so that every employee and every mission lies in one part.

    >>> [p.arcs.tolist() for p in cut(np.array([0, 0, 1, 2]), np.array([0, 1, 2, 2]), 3, 3, target=2)]
    [[0, 1], [2, 3]]
    """
    if label is None:
        label = components(n_employees, n_missions, employee, mission)[1][employee]
    if label.size == 0:
        return []
    part = pack(np.bincount(label), target)[label]
    n_parts = int(part.max()) + 1
    arcs = _grouped(part, n_parts)
    owner = np.full(n_employees, -1, np.int64)
    owner[employee] = part
    employees = _grouped(owner, n_parts)
    owner = np.full(n_missions, -1, np.int64)
    owner[mission] = part
    missions = _grouped(owner, n_parts)
    parts = [Part(arcs[i].astype(np.int64, copy=False), employees[i].astype(np.int64, copy=False),
                  missions[i].astype(np.int64, copy=False)) for i in range(n_parts)]
    return sorted(parts, key=lambda p: -len(p))
