"""Raw (employee, mission) pairs to test for eligibility, drawn without a dense matrix.

Missions are grouped by their most selective required skill (:func:`key_skill`); each group
meets only the employees who hold that skill well enough.  Within a group, pairs come from a
KD-tree on unit-sphere coordinates (``scipy.spatial.cKDTree``): every pair within an
employee's ``max_km`` (:func:`spatial_pairs`), or each side's nearest partners
(:func:`nearest_pairs`) for a capped graph; remote missions meet remote employees
everywhere (:func:`remote_pairs`, or a spread sample: :func:`spread_pairs`).  Each source
yields chunks, so that memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.spatial import cKDTree

from .._geo import chord_of_km, unit_vectors
from ..model import Problem
from ._tables import pair_keys, per_problem

Pairs = tuple[np.ndarray, np.ndarray]

_CHUNK = 200_000  # employees (or missions) per KD-tree query
STOP_CHUNK = 1_024  # employees per query when a build may be stopped (a deadline): about 0.1 s of pairs
#: A KD-tree query of fewer points than this runs in the calling thread: starting and joining threads
#: costs more than it saves.  The capped graph (``top_k=5``) of ``france(seed=0, scale=0.01)`` makes
#: 9,348 queries, most of a few points: 2.75 s with threads for each, 1.0 s without (2026-12-07, the
#: 2-core machine idle; at load 6, 12.9 s against 3.4 s, 7.7 s of the 12.9 waiting on thread locks).
THREAD_MIN_POINTS = 2_048
_MAX_CHUNK_PAIRS = 5_000_000  # pairs per chunk of a cross product


def _key_skill(problem: Problem) -> np.ndarray:
    m = problem.missions
    holders = np.count_nonzero(problem.employees.skill_level > 0, axis=0) if problem.skills else np.zeros(0)
    n_req = np.diff(m.req_ptr)
    key = np.full(len(m), -1, np.int32)
    if m.req_skill.size:
        owner = np.repeat(np.arange(len(m)), n_req)
        rarity = holders[m.req_skill].astype(np.int64)
        # sort requirements by (mission, rarity, skill) and take the first per mission
        order = np.lexsort((m.req_skill, rarity, owner))
        first = np.ones(order.size, bool)
        first[1:] = owner[order][1:] != owner[order][:-1]
        key[owner[order][first]] = m.req_skill[order][first]
    return key


def key_skill(problem: Problem) -> np.ndarray:
    """Per mission, the required skill held by the fewest employees (-1: none required)."""
    return per_problem(problem, "key_skill", _key_skill)


def _loosest_levels(problem: Problem) -> np.ndarray:
    m = problem.missions
    out = np.zeros(len(problem.skills), np.int64)
    if m.req_skill.size:
        out[:] = np.iinfo(np.int64).max
        np.minimum.at(out, m.req_skill, m.req_level.astype(np.int64))
    return out


def loosest_levels(problem: Problem) -> np.ndarray:
    """Per skill, the loosest level any mission requires (a prefilter of its holders)."""
    return per_problem(problem, "loosest", _loosest_levels)


def spatial_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, chunk: int = _CHUNK) -> Iterator[Pairs]:
    """Yield chunks of pairs within each employee's max_km (non-remote missions), ``chunk``
    employees at a time."""
    e, m = problem.employees, problem.missions
    if emps.size == 0 or mis.size == 0:
        return
    tree = cKDTree(unit_vectors(m.lat[mis], m.lon[mis]))
    # chunk employees by ascending radius so that each chunk's query radius is tight
    emps = emps[np.argsort(e.max_km[emps], kind="stable")]
    for start in range(0, emps.size, chunk):
        ch = emps[start : start + chunk]
        rmax = float(chord_of_km(e.max_km[ch].max())) * (1 + 1e-9) + 1e-12
        sub = cKDTree(unit_vectors(e.lat[ch], e.lon[ch]))
        pairs = sub.sparse_distance_matrix(tree, rmax, output_type="ndarray")
        yield ch[pairs["i"]].astype(np.int32), mis[pairs["j"]].astype(np.int32)


def remote_pairs(emps: np.ndarray, mis: np.ndarray) -> Iterator[Pairs]:
    """Yield chunks of the full cross product (bounded memory)."""
    if emps.size == 0 or mis.size == 0:
        return
    step = max(1, _MAX_CHUNK_PAIRS // mis.size)
    for start in range(0, emps.size, step):
        ch = emps[start : start + step]
        yield np.repeat(ch, mis.size).astype(np.int32), np.tile(mis, ch.size).astype(np.int32)


def nearest_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, kq: int, threads: int = -1,
                  kq_m: int | None = None) -> Iterator[Pairs]:
    """Pairs among each employee's ``kq`` nearest missions and each mission's ``kq_m`` (default
    ``kq``) nearest employees, within the largest ``max_km`` of ``emps``."""
    e, m = problem.employees, problem.missions
    if emps.size == 0 or mis.size == 0:
        return
    rmax = float(chord_of_km(e.max_km[emps].max())) * (1 + 1e-9) + 1e-12
    pe, pm = unit_vectors(e.lat[emps], e.lon[emps]), unit_vectors(m.lat[mis], m.lon[mis])
    for pts, other, rows, cols, kk in ((pe, pm, emps, mis, kq), (pm, pe, mis, emps, kq_m or kq)):
        tree = cKDTree(other)
        k = min(kk, other.shape[0])
        for start in range(0, pts.shape[0], _CHUNK):
            q = pts[start : start + _CHUNK]
            _, idx = tree.query(q, k=k, distance_upper_bound=rmax,
                                workers=threads if q.shape[0] >= THREAD_MIN_POINTS else 1)
            idx = idx.reshape(idx.shape[0], -1)
            ok = idx < other.shape[0]
            r = np.repeat(rows[start : start + _CHUNK], k).reshape(-1, k)[ok]
            c = cols[idx[ok]]
            yield (r, c) if rows is emps else (c, r)


def spread_pairs(rows_: np.ndarray, cols_: np.ndarray, kq: int, both: bool = True) -> Iterator[Pairs]:
    """``kq`` partners per row among ``cols_``, spread evenly by a fixed rotation (and, with
    ``both``, ``kq`` per column among ``rows_``): a deterministic sample of a cross product."""
    sides = ((rows_, cols_, False), (cols_, rows_, True)) if both else ((rows_, cols_, False),)
    for rows, cols, flip in sides:
        k = min(kq, cols.size)
        stride = max(1, cols.size // k)
        base = (np.arange(rows.size, dtype=np.int64) * 7919) % cols.size
        idx = (base[:, None] + stride * np.arange(k)[None, :]) % cols.size
        r = np.repeat(rows, k)
        c = cols[idx.reshape(-1)]
        yield (c, r) if flip else (r, c)


def unique_pairs(ea: np.ndarray, ma: np.ndarray, n_missions: int) -> Pairs:
    """Distinct pairs, sorted by employee then mission."""
    keys = np.sort(pair_keys(ea, ma, n_missions))
    keep = np.ones(keys.size, bool)
    keep[1:] = keys[1:] != keys[:-1]
    keys = keys[keep]
    return (keys // n_missions).astype(np.int32), (keys % n_missions).astype(np.int32)
