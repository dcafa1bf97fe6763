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
from typing import Collection, Mapping

import numpy as np
from scipy.spatial import cKDTree

from ._arrays import unique_sorted
from ._geo import chord_of_km, haversine_km, unit_vectors
from .model import NO_DATE, Problem
from .parallel import default_workers, run_parts
from .policy import CO2_KG_PER_KM, TERMS, IntegerScores, Policy, as_policy, integer_scores
from .territory import departement_of, departements

__all__ = ["CandidateGraph", "ArcTerms", "build_candidates", "rescore", "arc_terms", "rural_associations", "eligible_pairs",
           "filter_eligible"]

_CHUNK = 200_000
_MAX_CHUNK_PAIRS = 5_000_000
# With a cap k: each employee meets its NEAREST_POOL * k nearest missions (and each mission
# its MISSION_POOL * k nearest employees) before the k best are kept; a wider pool keeps
# more of the full graph's optimum at the price of slower candidate generation.  Measured
# while choosing them (k = 5, max_hours, France at 10 % scale, seed 0, hours placed on the
# capped graph; raw pairs relative to (8, 8)): (8, 8) 1,316,616 h; (8, 4) 1,315,069 h, 84 %;
# (8, 2) 1,314,159 h, 76 %; (6, 4) 1,309,119 h, 66 %; (12, 4) 1,318,856 h, 119 %.  The
# employee side matters most; (8, 4) gives up 0.12 % of hours for 16 % less work.
_NEAREST_POOL = 8
_MISSION_POOL = 4
_REMOTE_POOL = 2


class ArcTerms(Mapping[str, np.ndarray]):
    """The objective terms of a graph's arcs (see :mod:`koeeo_match.policy`), each computed on
    first use: a graph built for one policy computes the terms that policy weighs; others (for
    an objective breakdown, or :func:`rescore`) are computed when asked for, then kept.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> sorted(g.terms) == sorted(km.TERMS) and g.terms["co2_kg"].shape == g.km.shape
    True
    """

    def __init__(self, problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray,
                 computed: Mapping[str, np.ndarray] | None = None) -> None:
        self._problem, self._ea, self._ma, self._km = problem, ea, ma, km
        self._computed: dict[str, np.ndarray] = dict(computed or {})

    def __getitem__(self, name: str) -> np.ndarray:
        v = self._computed.get(name)
        if v is None:
            if name not in TERMS:
                raise KeyError(name)
            v = self._computed[name] = arc_terms(self._problem, self._ea, self._ma, self._km, [name])[name]
        return v

    def __iter__(self):
        return iter(TERMS)

    def __len__(self) -> int:
        return len(TERMS)

    def subset(self, arcs: np.ndarray) -> "ArcTerms":
        """The terms of the arcs ``arcs`` (indices), sharing nothing with this mapping."""
        return ArcTerms(self._problem, self._ea[arcs], self._ma[arcs], self._km[arcs],
                        {k: v[arcs] for k, v in self._computed.items()})


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
    terms : Mapping of str to ndarray
        Each objective term per arc (see :mod:`koeeo_match.policy`), an
        :class:`ArcTerms` (computed on first use) for a built graph.
    score : ndarray of int64
        Integer score per arc (higher is better), from ``policy``.
    scale : IntegerScores
        How ``score`` was scaled.
    k : int or None
        The cap on arcs per employee and per mission (None: every eligible pair).
    rank : Policy or None
        With ``k``, the policy given to choose the kept arcs; None when
        ``policy`` chose them (see :func:`build_candidates`).
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
    rank: Policy | None = None  # with k: the policy given to choose the kept arcs (None: ``policy`` did)
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
            terms=(self.terms.subset(arcs) if isinstance(self.terms, ArcTerms)
                   else {k: v[arcs] for k, v in self.terms.items()}),
            score=self.score[arcs],
            scale=self.scale,
            policy=self.policy,
            k=self.k,
            rank=self.rank,
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


def _nearest_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, kq: int, threads: int = -1, kq_m: int | None = None):
    """Pairs among each employee's ``kq`` nearest missions and each mission's ``kq`` nearest employees."""
    e, m = problem.employees, problem.missions
    if emps.size == 0 or mis.size == 0:
        return
    rmax = float(chord_of_km(e.max_km[emps].max())) * (1 + 1e-9) + 1e-12
    pe, pm = unit_vectors(e.lat[emps], e.lon[emps]), unit_vectors(m.lat[mis], m.lon[mis])
    for pts, other, rows, cols, kk in ((pe, pm, emps, mis, kq), (pm, pe, mis, emps, kq_m or kq)):
        tree = cKDTree(other)
        k = min(kk, other.shape[0])
        for start in range(0, pts.shape[0], _CHUNK):
            _, idx = tree.query(pts[start : start + _CHUNK], k=k, distance_upper_bound=rmax, workers=threads)
            idx = idx.reshape(idx.shape[0], -1)
            ok = idx < other.shape[0]
            r = np.repeat(rows[start : start + _CHUNK], k).reshape(-1, k)[ok]
            c = cols[idx[ok]]
            yield (r, c) if rows is emps else (c, r)


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


def _loosest_levels(problem: Problem) -> np.ndarray:
    m = problem.missions
    out = np.zeros(len(problem.skills), np.int64)
    if m.req_skill.size:
        out[:] = np.iinfo(np.int64).max
        np.minimum.at(out, m.req_skill, m.req_level.astype(np.int64))
    return out


def _skills_ok(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    m, lv = problem.missions, problem.employees.skill_level
    n_req = _tables(problem)["n_req"]
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
            "key_skill": _key_skill(problem),
            "n_req": np.diff(m.req_ptr),
            # per skill, the loosest level any mission requires (a prefilter of its holders)
            "loosest": _loosest_levels(problem),
            # unit vectors and squared chord of each employee's reach (with a margin: a prefilter)
            "e_xyz": unit_vectors(e.lat, e.lon),
            "m_xyz": unit_vectors(m.lat, m.lon),
            "reach2": (chord_of_km(e.max_km) * (1 + 1e-6) + 1e-9) ** 2,
            "prefs": _sorted_table(
                _pair_keys(np.repeat(np.arange(len(e), dtype=np.int64), np.diff(e.pref_ptr)), e.pref_sector,
                           max(len(problem.sectors), 1)),
                e.pref_weight,
            ),
            "affinities": _sorted_table(
                _pair_keys(problem.affinities.employee, problem.affinities.mission, len(m)), problem.affinities.score
            ),
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


def _sorted_table(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return keys[order], np.asarray(vals, np.float64)[order]


def _lookup_sorted(keys: np.ndarray, sk: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """Value for each key from a table sorted by key; 0 where absent."""
    out = np.zeros(keys.size, np.float64)
    if sk.size:
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


_RURAL: "weakref.WeakKeyDictionary[Problem, np.ndarray]" = weakref.WeakKeyDictionary()


def rural_associations(problem: Problem) -> np.ndarray:
    """Boolean mask of associations in a rural département (nearest département centre
    within 120 km, density class ``rural``); all false outside France.  Cached per problem.

    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "lozere", "lat": 44.52, "lon": 3.50}, {"id": "paris", "lat": 48.86, "lon": 2.35},
    ...                   {"id": "null-island", "lat": 0.0, "lon": 0.0}],
    ...     employees=[{"id": "e", "lat": 48.86, "lon": 2.35}], missions=[{"id": "m", "association": "paris"}])
    >>> rural_associations(p).tolist()
    [True, False, False]
    """
    rural = _RURAL.get(problem)
    if rural is None:

        a = problem.associations
        dep = departement_of(a.lat, a.lon)
        rural = np.zeros(len(a), bool)
        if dep is not None:
            inside = dep >= 0
            rural[inside] = departements().density_class[dep[inside]] == "rural"
        rural.setflags(write=False)
        _RURAL[problem] = rural
    return rural


def arc_terms(
    problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray, names: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """Objective terms (see :mod:`koeeo_match.policy`) for the given arcs: every term, or
    only ``names`` (what a policy with some zero weights needs)."""
    e, m, a = problem.employees, problem.missions, problem.associations
    want = set(TERMS if names is None else names)
    out: dict[str, np.ndarray] = {}
    hours = m.hours[ma]
    if "hours" in want:
        out["hours"] = hours
    if "seats" in want:
        out["seats"] = np.ones(ea.size)
    if "skill_fit" in want:
        n_req = _tables(problem)["n_req"]
        fit = np.zeros(ea.size)
        for k in range(int(n_req.max()) if n_req.size else 0):
            has = n_req[ma] > k
            idx = m.req_ptr[ma[has]] + k
            excess = e.skill_level[ea[has], m.req_skill[idx]].astype(np.float64) - m.req_level[idx]
            fit[has] += 1.0 - 0.25 * excess
        out["skill_fit"] = np.divide(fit, n_req[ma], out=np.zeros_like(fit), where=n_req[ma] > 0)
    if "preference" in want:
        sector = a.sector[m.association[ma]]
        ns = max(len(problem.sectors), 1)
        keys, vals = _tables(problem)["prefs"]
        pref = _lookup_sorted(_pair_keys(ea, np.maximum(sector, 0), ns), keys, vals)
        pref[sector < 0] = 0.0
        out["preference"] = pref
    if "priority" in want:
        out["priority"] = a.priority[m.association[ma]] * hours
    if "travel_km" in want:
        out["travel_km"] = np.where(m.remote[ma], 0.0, 2.0 * km)
    if "co2_kg" in want:
        out["co2_kg"] = CO2_KG_PER_KM * np.where(m.remote[ma], 0.0, 2.0 * km)
    if "small_association" in want:
        out["small_association"] = np.where(a.small[m.association[ma]], hours, 0.0)
    if "rural" in want:
        out["rural"] = np.where(rural_associations(problem)[m.association[ma]], hours, 0.0)
    if "affinity" in want:
        keys, vals = _tables(problem)["affinities"]
        out["affinity"] = _lookup_sorted(_pair_keys(ea, ma, len(m)), keys, vals)
    return out


def _blocks(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Block of each point for a capped graph: the index of the nearest département centre
    within 1,000 km, -1 elsewhere."""

    dep = departement_of(lat, lon, max_km=1_000.0)
    return np.full(len(lat), -1, np.int64) if dep is None else dep


def filter_eligible(problem: Problem, ea: np.ndarray, ma: np.ndarray):
    """Keep the eligible pairs; return them with their one-way km.

    A chord test on unit vectors (cheap, with a margin so that it never
    rejects an eligible pair) comes first; the haversine distance that
    decides eligibility is computed for the survivors only.
    """
    e, m = problem.employees, problem.missions
    t = _tables(problem)
    ea, ma = ea.astype(np.int32, copy=False), ma.astype(np.int32, copy=False)
    anywhere = m.remote[ma] & e.remote_ok[ea]
    diff = t["e_xyz"][ea] - t["m_xyz"][ma]
    ok = anywhere | (np.einsum("ij,ij->i", diff, diff) <= t["reach2"][ea])
    del diff
    ea, ma, anywhere = ea[ok], ma[ok], anywhere[ok]
    ok = _skills_ok(problem, ea, ma)
    ok &= _dates_ok(problem, ea, ma)
    ok &= _not_excluded(problem, ea, ma)
    if len(problem.forbidden):
        ok &= ~_in_sorted(_pair_keys(ea, ma, len(m)), t["forbidden"])
    ea, ma, anywhere = ea[ok], ma[ok], anywhere[ok]
    km = haversine_km(e.lat[ea], e.lon[ea], m.lat[ma], m.lon[ma])
    ok = anywhere | (km <= e.max_km[ea])
    return ea[ok], ma[ok], km[ok]


def _unique_pairs(ea: np.ndarray, ma: np.ndarray, n_missions: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs, sorted by employee then mission."""
    keys = np.sort(_pair_keys(ea, ma, n_missions))
    keep = np.ones(keys.size, bool)
    keep[1:] = keys[1:] != keys[:-1]
    keys = keys[keep]
    return (keys // n_missions).astype(np.int32), (keys % n_missions).astype(np.int32)


def _top_k(owner: np.ndarray, rank: np.ndarray, k: int) -> np.ndarray:
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


def _capped(problem: Problem, policy: Policy, ea, ma, km, k: int):
    """Keep each employee's ``k`` best arcs and each mission's ``k`` best arcs (union)."""
    terms = arc_terms(problem, ea, ma, km, [t for t, w in policy.weights().items() if w])
    if policy.primary:
        sec = policy.score(terms, "secondary")
        span = float(np.abs(sec).max()) * 2 + 1.0 if sec.size else 1.0
        rank = policy.score(terms, "primary") * span + sec  # primary first, then secondary
    else:
        rank = policy.score(terms)
    keep = _top_k(ea, rank, k) | _top_k(ma, rank, k)
    return ea[keep], ma[keep], km[keep]


def _group_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, k: int | None = None,
                 policy: Policy | None = None, threads: int = -1):
    """Eligible pairs between ``emps`` and ``mis``, one key-skill group at a time; each group's
    arcs capped to the ``k`` best per employee and per mission when ``k`` is given."""
    e, m = problem.employees, problem.missions
    key = _tables(problem)["key_skill"]
    lv = e.skill_level
    out = []
    for g in unique_sorted(key[mis]).tolist():
        mis_g = mis[key[mis] == g]
        if g >= 0:
            emps_g = emps[lv[emps, g] >= _tables(problem)["loosest"][g]]
        else:
            emps_g = emps
        remote = m.remote[mis_g]
        emps_r = emps_g[e.remote_ok[emps_g]]
        # a remote mission is open to remote_ok employees anywhere, and to others within max_km
        if k is None:
            chunks = list(_spatial_pairs(problem, emps_g, mis_g)) + list(_remote_pairs(emps_r, mis_g[remote]))
            parts = [filter_eligible(problem, a, b) for a, b in chunks]
            if not parts:
                continue
            ea, ma, km = (np.concatenate(x) for x in zip(*parts))
            if len(parts) > 1:  # several sources may find the same pair
                _, first = np.unique(_pair_keys(ea, ma, len(m)), return_index=True)
                ea, ma, km = ea[first], ma[first], km[first]
        else:
            chunks = list(_nearest_pairs(problem, emps_g, mis_g, _NEAREST_POOL * k, threads, _MISSION_POOL * k))
            if emps_r.size and remote.any():
                chunks += list(_rotate(emps_r, mis_g[remote], _REMOTE_POOL * k))
            if not chunks:
                continue
            # both sides' nearest lists overlap: deduplicate the raw pairs (one sort of int64
            # keys), then filter each pair once
            ea, ma, km = filter_eligible(problem, *_unique_pairs(*(np.concatenate(x) for x in zip(*chunks)), len(m)))
            ea, ma, km = _capped(problem, policy, ea, ma, km, k)
        out.append((ea, ma, km))
    if not out:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    ea, ma, km = (np.concatenate(x) for x in zip(*out))
    if k is not None and len(out) > 1:
        ea, ma, km = _capped(problem, policy, ea, ma, km, k)
    return ea, ma, km


def eligible_pairs(
    problem: Problem, *, k: int | None = None, policy: Policy | None = None, workers: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eligible (employee, mission) pairs, sorted by employee then mission, with one-way km.

    With ``k`` (and the ``policy`` that ranks arcs), only each employee's
    ``k`` best arcs and each mission's ``k`` best arcs are kept, among pairs
    drawn from each employee's ``8k`` nearest missions and each mission's
    ``4k`` nearest employees (and, for remote missions, ``2k`` partners per
    side spread evenly), **within the same block**: the département whose
    centre is nearest (points over 1,000 km from every centre form one more
    block).  The capped graph then splits by département; blocks are built
    on a local process pool (``workers``, default: every core) and solved
    apart.  Employees or missions of a block without the other side draw
    their partners from everywhere.  Départements rather than regions make
    connected components about eight times smaller, and OR-Tools' min-cost
    flow is superlinear in a component's size: on the national benchmark
    instance they cost 0.07 % of the hours placed (0.18 % at a tenth of its
    size; 0.98 % with every rule at a tenth, where teams near a border lose
    candidates) and cut the flow solve from 55 s to 30 s (docs/solvers.md,
    "The capped graph").
    Without ``k``, every eligible pair is returned (exact).
    """
    e, m = problem.employees, problem.missions
    all_e = np.arange(len(e), dtype=np.int32)
    all_m = np.arange(len(m), dtype=np.int32)
    if k is None:
        ea, ma, km = _group_pairs(problem, all_e, all_m)
    else:
        eb, mb = _blocks(e.lat, e.lon), _blocks(m.lat, m.lon)
        shared = np.intersect1d(eb, mb)
        blocks = [(all_e[eb == b], all_m[mb == b]) for b in shared.tolist()]
        lone_e, lone_m = all_e[~np.isin(eb, shared)], all_m[~np.isin(mb, shared)]
        if lone_e.size:
            blocks.append((lone_e, all_m))
        if lone_m.size:
            blocks.append((all_e, lone_m))
        sizes = [a.size + b.size for a, b in blocks]
        order = sorted(range(len(blocks)), key=lambda i: -sizes[i])
        workers = workers or default_workers()
        pooled = workers > 1 and len(blocks) > 1 and len(e) + len(m) > 200_000
        # run_parts forks its workers with the tasks in memory: nothing large is pickled
        res = run_parts(_group_pairs, [(problem, *blocks[i], k, policy, 1 if pooled else -1) for i in order],
                        workers if pooled else 1, [sizes[i] for i in order])
        ea, ma, km = (np.concatenate(x) for x in zip(*res)) if res else (np.zeros(0, np.int32),) * 2 + (np.zeros(0),)
        if lone_e.size or lone_m.size:  # blocks overlap: remove duplicates, cap again
            _, first = np.unique(_pair_keys(ea, ma, len(m)), return_index=True)
            ea, ma, km = _capped(problem, policy, ea[first], ma[first], km[first], k)
    order = np.argsort(_pair_keys(ea, ma, len(m)))  # pairs are distinct: one int64 sort (lexsort is ~3x slower)
    return ea[order], ma[order], km[order]


def build_candidates(
    problem: Problem, policy: Policy | str, *, k: int | None = None, rank: Policy | str | None = None
) -> CandidateGraph:
    """Build the candidate graph of ``problem`` with integer scores from ``policy``.

    Parameters
    ----------
    k : int, optional
        Keep only the ``k`` best arcs of each employee and of each mission
        (union), for instances whose full graph is too large.  ``None``
        (default) keeps every eligible pair: solutions are then optimal for
        the problem itself, not only for the capped graph.
    rank : Policy, optional
        With ``k``: the policy whose scores choose the kept arcs (default:
        ``policy``).  Graphs of several policies built with the same
        ``rank`` have the same arcs, so their solutions compare the
        policies alone, not also the arcs each policy would keep.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> bool((g.employee[:-1] <= g.employee[1:]).all())
    True
    """
    policy = as_policy(policy, "policy", "build_candidates")
    rank = None if rank is None else as_policy(rank, "rank", "build_candidates")
    if rank is not None and k is None:
        raise ValueError("The 'rank' parameter of build_candidates applies only with k (a capped graph).")
    ea, ma, km = eligible_pairs(problem, k=k, policy=rank or policy)
    weighed = [t for t, w in policy.weights().items() if w]
    terms = ArcTerms(problem, ea, ma, km, arc_terms(problem, ea, ma, km, weighed))
    ptr = np.zeros(problem.n_employees + 1, np.int64)
    np.cumsum(np.bincount(ea, minlength=problem.n_employees), out=ptr[1:])
    return _scored(problem, policy, ea, ma, ptr, km, terms, k, rank)


def _scored(problem: Problem, policy: Policy, ea, ma, ptr, km, terms, k: int | None,
            rank: Policy | None) -> CandidateGraph:
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
        rank=rank,
    )


def rescore(graph: CandidateGraph, problem: Problem, policy: Policy) -> CandidateGraph:
    """The same arcs scored for another ``policy``, without rebuilding them.

    Eligibility and the objective terms do not depend on the policy, so a
    full graph (``k=None``) built for one policy serves every other: only
    the integer scores are recomputed.  A capped graph (``k`` given) keeps
    the arcs that ``graph.rank`` chose, which are not those ``policy`` would
    keep: it can be rescored only when it was built with an explicit
    ``rank`` (``build_candidates(..., k=k, rank=...)``), saying that the
    same arcs are wanted for every policy.

    Raises
    ------
    ValueError
        ``graph`` is capped without an explicit ``rank`` (its arcs depend on
        its own policy), is a part of a larger graph, or was not built for
        ``problem``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> h = rescore(g, p, km.Policy.preset("min_travel"))
    >>> bool((h.score == km.build_candidates(p, km.Policy.preset("min_travel")).score).all())
    True
    """
    if graph.k is not None and graph.rank is None:
        raise ValueError(f"A graph capped at k={graph.k} arcs cannot be rescored: its arcs depend on its policy; "
                         "build it again with build_candidates(problem, policy, k=...), or build it with "
                         "rank=... to keep the same arcs for every policy.")
    if graph.is_part:
        raise ValueError("A part of a candidate graph cannot be rescored; rescore the whole graph.")
    if graph.n_employees != problem.n_employees or graph.n_missions != problem.n_missions:
        raise ValueError(f"The graph ({graph.n_employees} employees, {graph.n_missions} missions) was not built "
                         f"for this problem ({problem.n_employees} employees, {problem.n_missions} missions).")
    return _scored(problem, policy, graph.employee, graph.mission, graph.ptr, graph.km, graph.terms, graph.k,
                   graph.rank)
