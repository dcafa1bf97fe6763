"""Capping a graph: each employee's and each mission's ``k`` best arcs, and the
département blocks a capped graph is built in."""

from __future__ import annotations

import numpy as np

from ..model import Problem
from ..policy import Policy
from ..territory import departement_of
from ._terms import arc_terms


def top_k(owner: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` best arcs (largest ``rank``) of each owner.

    One sort of int64 keys ``owner | quantised descending rank | arc index``
    (the rank gets the bits the other two leave, at least 16; ranks closer
    than that resolution of their range count as ties, broken by arc index:
    deterministic).  A plain ``np.sort`` of unique keys is several times
    faster than a stable argsort.
    """
    n = owner.size
    if n == 0:
        return np.zeros(0, bool)
    idx_bits = max(1, int(n - 1).bit_length())
    own_bits = max(1, int(owner.max()).bit_length())
    q_bits = min(31, 63 - idx_bits - own_bits)
    lo, hi = float(rank.min()), float(rank.max())
    if q_bits >= 16:
        q = (np.zeros(n, np.int64) if hi == lo
             else np.round((hi - rank) / (hi - lo) * (2**q_bits - 1)).astype(np.int64))
        key = np.sort((owner.astype(np.int64) << (q_bits + idx_bits)) | (q << idx_bits) | np.arange(n, dtype=np.int64))
        order = key & ((1 << idx_bits) - 1)
        o = key >> (q_bits + idx_bits)
    else:  # too many arcs or owners for one word: a stable argsort of owner | rank
        q = np.zeros(n, np.int64) if hi == lo else np.round((hi - rank) / (hi - lo) * (2**31 - 2)).astype(np.int64)
        order = np.argsort((owner.astype(np.int64) << 31) | q, kind="stable")
        o = owner[order]
    start = np.ones(n, bool)
    start[1:] = o[1:] != o[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    keep = np.zeros(n, bool)
    keep[order] = (np.arange(n) - first) < k
    return keep


def capped(problem: Problem, policy: Policy, ea: np.ndarray, ma: np.ndarray, km: np.ndarray,
           k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep each employee's ``k`` best arcs and each mission's ``k`` best arcs (union), as
    ``policy`` ranks them (its primary objective first, then its secondary one)."""
    terms = arc_terms(problem, ea, ma, km, [t for t, w in policy.weights().items() if w])
    if policy.primary:
        sec = policy.score(terms, "secondary")
        span = float(np.abs(sec).max()) * 2 + 1.0 if sec.size else 1.0
        rank = policy.score(terms, "primary") * span + sec  # primary first, then secondary
    else:
        rank = policy.score(terms)
    keep = top_k(ea, rank, k) | top_k(ma, rank, k)
    return ea[keep], ma[keep], km[keep]


def blocks(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Block of each point for a capped graph: the index of the nearest département centre
    within 1,000 km, -1 elsewhere."""
    dep = departement_of(lat, lon, max_km=1_000.0)
    return np.full(len(lat), -1, np.int64) if dep is None else dep
