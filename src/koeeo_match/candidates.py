"""The candidate graph: every eligible (employee, mission) pair, vectorised.

A pair is eligible when (DESIGN.md §4) the employee has every required skill
at the required level, is available on the mission's date (if it has one),
is within ``max_km`` of the mission (or the mission is remote and the
employee ``remote_ok``), the employer does not exclude the association, and
the pair is not ``forbidden``.

How it scales: missions are grouped by their most selective required skill;
each group meets only the employees who hold that skill, through a KD-tree on
unit-sphere coordinates (``scipy.spatial.cKDTree``), in chunks of employees so
that memory stays bounded.  Remaining rules are boolean masks over arc
arrays.  There is no loop over employees or missions in Python, and no dense
employee x mission matrix.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.spatial import cKDTree

from ._geo import chord_of_km, haversine_km, unit_vectors
from .model import NO_DATE, Problem
from .policy import IntegerScores, Policy, integer_scores

__all__ = ["CandidateGraph", "build_candidates", "rescore", "arc_terms"]

_CHUNK = 200_000
_MAX_CHUNK_PAIRS = 5_000_000
# With a cap k: each employee meets its NEAREST_POOL * k nearest missions (and each mission
# its NEAREST_POOL * k nearest employees) before the k best are kept; a wider pool keeps
# more of the full graph's optimum (measured while choosing it: pool 8 vs 3 at k = 10 on
# Ille-et-Vilaine places 219,450 h instead of 211,883 h, of the full graph's 230,118 h;
# docs/benchmarks.md has the pool-8 figures) at the price of slower candidate generation.
_NEAREST_POOL = 8
_REMOTE_POOL = 2


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    """Eligible arcs in CSR order (sorted by employee, then mission).

    Attributes
    ----------
    employee, mission : ndarray of int32
        Arc endpoints.
    ptr : ndarray of int64
        ``ptr[e]:ptr[e+1]`` are employee ``e``'s arcs.
    km : ndarray of float64
        One-way great-circle distance (the ``travel_km`` term is 0 for remote missions).
    terms : dict of str to ndarray
        Each objective term per arc (see :mod:`koeeo_match.policy`).
    score : ndarray of int64
        Integer score per arc (higher is better), from ``policy``.
    scale : IntegerScores
        How ``score`` was scaled.
    """

    n_employees: int
    n_missions: int
    employee: np.ndarray
    mission: np.ndarray
    ptr: np.ndarray
    km: np.ndarray
    terms: Mapping[str, np.ndarray]
    score: np.ndarray
    scale: IntegerScores
    policy: Policy
    k: int | None = None
    is_part: bool = False  # a subset of a larger graph: its employees' arcs are all here

    def __len__(self) -> int:
        return len(self.employee)

    def __repr__(self) -> str:
        return f"CandidateGraph({len(self)} arcs, {self.n_employees} employees, {self.n_missions} missions)"

    def degree_of_missions(self) -> np.ndarray:
        return np.bincount(self.mission, minlength=self.n_missions)

    def subset(self, arcs: np.ndarray) -> "CandidateGraph":
        """The graph restricted to the given arc indices (same node numbering and scale)."""
        arcs = np.sort(np.asarray(arcs, np.int64))
        ea = self.employee[arcs]
        ptr = np.zeros(self.n_employees + 1, np.int64)
        np.cumsum(np.bincount(ea, minlength=self.n_employees), out=ptr[1:])
        return CandidateGraph(
            n_employees=self.n_employees,
            n_missions=self.n_missions,
            employee=ea,
            mission=self.mission[arcs],
            ptr=ptr,
            km=self.km[arcs],
            terms={k: v[arcs] for k, v in self.terms.items()},
            score=self.score[arcs],
            scale=self.scale,
            policy=self.policy,
            k=self.k,
            is_part=True,
        )


def _key_skill(problem: Problem) -> np.ndarray:
    """Per mission, the required skill held by the fewest employees (-1: none required)."""
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


def _spatial_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray):
    """Yield chunks of pairs within each employee's max_km (non-remote missions)."""
    e, m = problem.employees, problem.missions
    if emps.size == 0 or mis.size == 0:
        return
    tree = cKDTree(unit_vectors(m.lat[mis], m.lon[mis]))
    # chunk employees by ascending radius so that each chunk's query radius is tight
    emps = emps[np.argsort(e.max_km[emps], kind="stable")]
    for start in range(0, emps.size, _CHUNK):
        ch = emps[start : start + _CHUNK]
        rmax = float(chord_of_km(e.max_km[ch].max())) * (1 + 1e-9) + 1e-12
        sub = cKDTree(unit_vectors(e.lat[ch], e.lon[ch]))
        pairs = sub.sparse_distance_matrix(tree, rmax, output_type="ndarray")
        yield ch[pairs["i"]].astype(np.int32), mis[pairs["j"]].astype(np.int32)


def _remote_pairs(emps: np.ndarray, mis: np.ndarray):
    """Yield chunks of the full cross product (bounded memory)."""
    if emps.size == 0 or mis.size == 0:
        return
    step = max(1, _MAX_CHUNK_PAIRS // mis.size)
    for start in range(0, emps.size, step):
        ch = emps[start : start + step]
        yield np.repeat(ch, mis.size).astype(np.int32), np.tile(mis, ch.size).astype(np.int32)


def _nearest_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, kq: int):
    """Pairs among each employee's ``kq`` nearest missions and each mission's ``kq`` nearest employees."""
    e, m = problem.employees, problem.missions
    if emps.size == 0 or mis.size == 0:
        return
    rmax = float(chord_of_km(e.max_km[emps].max())) * (1 + 1e-9) + 1e-12
    pe, pm = unit_vectors(e.lat[emps], e.lon[emps]), unit_vectors(m.lat[mis], m.lon[mis])
    for pts, other, rows, cols in ((pe, pm, emps, mis), (pm, pe, mis, emps)):
        tree = cKDTree(other)
        k = min(kq, other.shape[0])
        for start in range(0, pts.shape[0], _CHUNK):
            _, idx = tree.query(pts[start : start + _CHUNK], k=k, distance_upper_bound=rmax, workers=-1)
            idx = idx.reshape(idx.shape[0], -1)
            ok = idx < other.shape[0]
            r = np.repeat(rows[start : start + _CHUNK], k).reshape(-1, k)[ok]
            c = cols[idx[ok]]
            yield (r, c) if rows is emps else (c, r)


def _rotation_pairs(emps: np.ndarray, mis: np.ndarray, kq: int, e_block: np.ndarray, m_block: np.ndarray):
    """Remote pairs, ``kq`` per employee and per mission, spread evenly (deterministic).

    Partners are drawn within the same block (region) when the block has
    both sides, so that the capped graph decomposes by region.
    """
    if emps.size == 0 or mis.size == 0:
        return
    eb, mb = e_block[emps], m_block[mis]
    shared = np.intersect1d(eb, mb)
    for blk in shared.tolist():
        yield from _rotate(emps[eb == blk], mis[mb == blk], kq)
    # blocks with only one side: pair them with everyone else's
    lone_e, lone_m = emps[~np.isin(eb, shared)], mis[~np.isin(mb, shared)]
    if lone_e.size:
        yield from _rotate(lone_e, mis, kq, both=False)
    if lone_m.size:
        yield from ((a, b) for b, a in _rotate(lone_m, emps, kq, both=False))


def _rotate(rows_: np.ndarray, cols_: np.ndarray, kq: int, both: bool = True):
    sides = ((rows_, cols_, False), (cols_, rows_, True)) if both else ((rows_, cols_, False),)
    for rows, cols, flip in sides:
        k = min(kq, cols.size)
        stride = max(1, cols.size // k)
        base = (np.arange(rows.size, dtype=np.int64) * 7919) % cols.size
        idx = (base[:, None] + stride * np.arange(k)[None, :]) % cols.size
        r = np.repeat(rows, k)
        c = cols[idx.reshape(-1)]
        yield (c, r) if flip else (r, c)


def _skills_ok(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    m, lv = problem.missions, problem.employees.skill_level
    n_req = np.diff(m.req_ptr)
    ok = np.ones(ea.size, bool)
    for k in range(int(n_req.max()) if n_req.size else 0):
        has = n_req[ma] > k
        idx = m.req_ptr[ma[has]] + k
        ok[has] &= lv[ea[has], m.req_skill[idx]] >= m.req_level[idx]
    return ok


_CACHE: "weakref.WeakKeyDictionary[Problem, dict]" = weakref.WeakKeyDictionary()


def _tables(problem: Problem) -> dict:
    """Lookup tables derived once per problem (availability keys, exclusions, forbidden pairs)."""
    t = _CACHE.get(problem)
    if t is None:
        e, er, m = problem.employees, problem.employers, problem.missions
        owner = np.repeat(np.arange(len(e), dtype=np.int64), np.diff(e.avail_ptr))
        eowner = np.repeat(np.arange(len(er), dtype=np.int64), np.diff(er.excl_ptr))
        fb = problem.forbidden
        t = {
            "avail": (owner, (owner << 33) + (e.avail_start.astype(np.int64) + 2**31)),
            "excluded": np.sort(_pair_keys(eowner, er.excl_assoc, len(problem.associations))),
            "forbidden": np.sort(_pair_keys(fb.employee, fb.mission, len(m))),
        }
        _CACHE[problem] = t
    return t


def _dates_ok(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    e = problem.employees
    d = problem.missions.date[ma]
    ok = (d == NO_DATE) | e.always_available[ea]
    todo = ~ok
    if todo.any() and e.avail_start.size:
        owner, key = _tables(problem)["avail"]
        q = (ea[todo].astype(np.int64) << 33) + (d[todo].astype(np.int64) + 2**31)
        pos = np.searchsorted(key, q, side="right") - 1
        posc = np.maximum(pos, 0)
        hit = (pos >= 0) & (owner[posc] == ea[todo]) & (e.avail_end[posc] >= d[todo])
        ok[todo] = hit
    return ok


def _pair_keys(a: np.ndarray, b: np.ndarray, nb: int) -> np.ndarray:
    return a.astype(np.int64) * nb + b.astype(np.int64)


def _in_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if sorted_keys.size == 0:
        return np.zeros(keys.size, bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[pos] == keys


def _lookup(keys: np.ndarray, table_keys: np.ndarray, table_vals: np.ndarray) -> np.ndarray:
    """Value for each key from a (key -> value) table; 0 where absent."""
    out = np.zeros(keys.size, np.float64)
    if table_keys.size:
        order = np.argsort(table_keys, kind="stable")
        sk, sv = table_keys[order], table_vals[order]
        pos = np.minimum(np.searchsorted(sk, keys), sk.size - 1)
        hit = sk[pos] == keys
        out[hit] = sv[pos[hit]]
    return out


def _not_excluded(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    er = problem.employers
    if er.excl_assoc.size == 0:
        return np.ones(ea.size, bool)
    na = len(problem.associations)
    table = _tables(problem)["excluded"]
    emp = problem.employees.employer[ea]
    keys = _pair_keys(np.maximum(emp, 0), problem.missions.association[ma], na)
    return ~((emp >= 0) & _in_sorted(keys, table))


def arc_terms(problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray) -> dict[str, np.ndarray]:
    """Every objective term (see :mod:`koeeo_match.policy`) for the given arcs."""
    e, m, a = problem.employees, problem.missions, problem.associations
    hours = m.hours[ma]
    n_req = np.diff(m.req_ptr)
    fit = np.zeros(ea.size)
    for k in range(int(n_req.max()) if n_req.size else 0):
        has = n_req[ma] > k
        idx = m.req_ptr[ma[has]] + k
        excess = e.skill_level[ea[has], m.req_skill[idx]].astype(np.float64) - m.req_level[idx]
        fit[has] += 1.0 - 0.25 * excess
    fit = np.divide(fit, n_req[ma], out=np.zeros_like(fit), where=n_req[ma] > 0)
    sector = a.sector[m.association[ma]]
    ns = max(len(problem.sectors), 1)
    powner = np.repeat(np.arange(len(e), dtype=np.int64), np.diff(e.pref_ptr))
    pref = _lookup(_pair_keys(ea, np.maximum(sector, 0), ns), _pair_keys(powner, e.pref_sector, ns), e.pref_weight)
    pref[sector < 0] = 0.0
    aff = problem.affinities
    affinity = _lookup(
        _pair_keys(ea, ma, len(m)), _pair_keys(aff.employee, aff.mission, len(m)), aff.score
    )
    return {
        "hours": hours,
        "seats": np.ones(ea.size),
        "skill_fit": fit,
        "preference": pref,
        "priority": a.priority[m.association[ma]] * hours,
        "travel_km": np.where(m.remote[ma], 0.0, 2.0 * km),
        "affinity": affinity,
    }


def _region_blocks(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Region index of each point (nearest département centre), -1 outside France."""
    from .synth import departement_of, departements

    dep = departement_of(lat, lon)
    if dep is None:
        return np.full(len(lat), -1, np.int64)
    _, region = np.unique(departements().region.astype(str), return_inverse=True)
    return np.where(dep >= 0, region[np.maximum(dep, 0)], -1)


def _filter(problem: Problem, ea: np.ndarray, ma: np.ndarray):
    """Keep the eligible pairs; return them with their one-way km."""
    e, m = problem.employees, problem.missions
    ea, ma = ea.astype(np.int32, copy=False), ma.astype(np.int32, copy=False)
    km = haversine_km(e.lat[ea], e.lon[ea], m.lat[ma], m.lon[ma])
    ok = (km <= e.max_km[ea]) | (m.remote[ma] & e.remote_ok[ea])
    ok &= _skills_ok(problem, ea, ma)
    ok &= _dates_ok(problem, ea, ma)
    ok &= _not_excluded(problem, ea, ma)
    fb = problem.forbidden
    if len(fb):
        ok &= ~_in_sorted(_pair_keys(ea, ma, len(m)), _tables(problem)["forbidden"])
    return ea[ok], ma[ok], km[ok]


def _top_k(owner: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` best arcs (largest ``rank``) of each owner.

    One sort of int64 keys ``owner << 31 | quantised descending rank``; ranks
    closer than 2**-31 of their range count as ties (broken deterministically).
    """
    if owner.size == 0:
        return np.zeros(0, bool)
    lo, hi = float(rank.min()), float(rank.max())
    q = np.zeros(rank.size, np.int64) if hi == lo else np.round((hi - rank) / (hi - lo) * (2**31 - 2)).astype(np.int64)
    key = (owner.astype(np.int64) << 31) | q
    order = np.argsort(key, kind="stable")
    o = owner[order]
    start = np.ones(o.size, bool)
    start[1:] = o[1:] != o[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(o.size), 0))
    keep = np.zeros(o.size, bool)
    keep[order] = (np.arange(o.size) - first) < k
    return keep


def _capped(problem: Problem, policy: Policy, ea, ma, km, k: int):
    """Keep each employee's ``k`` best arcs and each mission's ``k`` best arcs (union)."""
    terms = arc_terms(problem, ea, ma, km)
    if policy.primary:
        sec = policy.score(terms, "secondary")
        span = float(np.abs(sec).max()) * 2 + 1.0 if sec.size else 1.0
        rank = policy.score(terms, "primary") * span + sec  # primary first, then secondary
    else:
        rank = policy.score(terms)
    keep = _top_k(ea, rank, k) | _top_k(ma, rank, k)
    return ea[keep], ma[keep], km[keep]


def eligible_pairs(
    problem: Problem, *, k: int | None = None, policy: Policy | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eligible (employee, mission) pairs, sorted by employee then mission, with one-way km.

    With ``k`` (and the ``policy`` that ranks arcs), only each employee's
    ``k`` best arcs and each mission's ``k`` best arcs are kept, among pairs
    drawn from the ``8k`` nearest missions / employees (and, for remote
    missions, ``2k`` partners per side spread evenly over the same region).
    """
    e, m = problem.employees, problem.missions
    key = _key_skill(problem)
    lv = e.skill_level
    all_e = np.arange(len(e), dtype=np.int32)
    if k is not None:
        e_block, m_block = _region_blocks(e.lat, e.lon), _region_blocks(m.lat, m.lon)
    out_e, out_m, out_km = [], [], []
    for g in np.unique(key):
        mis_g = np.flatnonzero(key == g).astype(np.int32)
        if g >= 0:
            need = m.req_level[(m.req_skill == g)].min()  # loosest requirement on g
            emps_g = np.flatnonzero(lv[:, g] >= need).astype(np.int32)
        else:
            emps_g = all_e
        remote = m.remote[mis_g]
        emps_r = emps_g[e.remote_ok[emps_g]]
        # a remote mission is open to remote_ok employees anywhere, and to others within max_km
        if k is None:
            chunks = list(_spatial_pairs(problem, emps_g, mis_g)) + list(_remote_pairs(emps_r, mis_g[remote]))
        else:
            chunks = list(_nearest_pairs(problem, emps_g, mis_g, _NEAREST_POOL * k)) + list(
                _rotation_pairs(emps_r, mis_g[remote], _REMOTE_POOL * k, e_block, m_block)
            )
        parts = [_filter(problem, a, b) for a, b in chunks]
        if not parts:
            continue
        ea, ma, km = (np.concatenate(x) for x in zip(*parts))
        if len(parts) > 1:  # several sources may find the same pair
            _, first = np.unique(_pair_keys(ea, ma, len(m)), return_index=True)
            ea, ma, km = ea[first], ma[first], km[first]
        if k is not None:
            ea, ma, km = _capped(problem, policy, ea, ma, km, k)
        out_e.append(ea), out_m.append(ma), out_km.append(km)
    if not out_e:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    ea, ma, km = np.concatenate(out_e), np.concatenate(out_m), np.concatenate(out_km)
    if k is not None:
        ea, ma, km = _capped(problem, policy, ea, ma, km, k)
    order = np.lexsort((ma, ea))
    return ea[order], ma[order], km[order]


def build_candidates(problem: Problem, policy: Policy, *, k: int | None = None) -> CandidateGraph:
    """Build the candidate graph of ``problem`` with integer scores from ``policy``.

    Parameters
    ----------
    k : int, optional
        Keep only the ``k`` best arcs of each employee and of each mission
        (union), for instances whose full graph is too large.  ``None``
        (default) keeps every eligible pair: solutions are then optimal for
        the problem itself, not only for the capped graph.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> bool((g.employee[:-1] <= g.employee[1:]).all())
    True
    """
    ea, ma, km = eligible_pairs(problem, k=k, policy=policy)
    terms = arc_terms(problem, ea, ma, km)
    ptr = np.zeros(problem.n_employees + 1, np.int64)
    np.cumsum(np.bincount(ea, minlength=problem.n_employees), out=ptr[1:])
    return _scored(problem, policy, ea, ma, ptr, km, terms, k)


def _scored(problem: Problem, policy: Policy, ea, ma, ptr, km, terms, k: int | None) -> CandidateGraph:
    n_max = int(min(ea.size, int(problem.missions.seats.sum())))
    n_nodes = problem.n_employees + problem.n_missions + 2 * ea.size + 4
    scale = integer_scores(policy, terms, max_assignments=n_max, limit=(2**61) // n_nodes)
    return CandidateGraph(
        n_employees=problem.n_employees,
        n_missions=problem.n_missions,
        employee=ea,
        mission=ma,
        ptr=ptr,
        km=km,
        terms=terms,
        score=scale.score,
        scale=scale,
        policy=policy,
        k=k,
    )


def rescore(graph: CandidateGraph, problem: Problem, policy: Policy) -> CandidateGraph:
    """The same arcs scored for another ``policy``, without rebuilding them.

    Eligibility and the objective terms do not depend on the policy, so a
    full graph (``k=None``) built for one policy serves every other: only
    the integer scores are recomputed.  A capped graph (``k`` given) keeps
    the arcs its own policy ranked best, so it cannot be rescored.

    Raises
    ------
    ValueError
        ``graph`` is capped (``graph.k`` is not None), is a part of a larger
        graph, or was not built for ``problem``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> h = rescore(g, p, km.Policy.preset("min_travel"))
    >>> bool((h.score == km.build_candidates(p, km.Policy.preset("min_travel")).score).all())
    True
    """
    if graph.k is not None:
        raise ValueError(f"A graph capped at k={graph.k} arcs cannot be rescored: its arcs depend on its policy; "
                         "build it again with build_candidates(problem, policy, k=...).")
    if graph.is_part:
        raise ValueError("A part of a candidate graph cannot be rescored; rescore the whole graph.")
    if graph.n_employees != problem.n_employees or graph.n_missions != problem.n_missions:
        raise ValueError(f"The graph ({graph.n_employees} employees, {graph.n_missions} missions) was not built "
                         f"for this problem ({problem.n_employees} employees, {problem.n_missions} missions).")
    return _scored(problem, policy, graph.employee, graph.mission, graph.ptr, graph.km, graph.terms, None)
