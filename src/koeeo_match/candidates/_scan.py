"""The pricing scan: the eligible pairs that beat the current prices, found without the graph.

A priced solve (:mod:`koeeo_match.solvers.priced`) holds a few arcs and, after each solve,
prices: ``y[e]`` per employee and ``v[m]`` per mission (in integer score units), such that an
arc ``(e, m)`` missing from its graph could improve the solution only if its score exceeds
``y[e] + v[m]``.  :func:`priced_pairs` finds every such pair of the *implicit* eligibility
graph, which is never stored: pairs are drawn as :mod:`._generate` draws them (key-skill
groups, KD-trees, chunks), but each side is first pruned by the prices themselves.  With
:class:`~._bounds.ScoreBounds` ``score <= A[m] + B[e] - G * km``, a pair can beat the prices
only if ``G * km < (A[m] - v[m]) + (B[e] - y[e])``: a mission whose price is high is searched
within a small radius, an employee whose price is high likewise, and the KD-trees are
queried by radius band.  Remote missions done from home (no travel cost) are searched by the prices alone; done in
person (employees not ``remote_ok``), by radius like the others.
Only the pairs that survive are tested for eligibility and scored exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .._geo import EARTH_RADIUS_KM, chord_of_km, unit_vectors
from ..model import Problem
from ..parallel import PartsStopped, default_workers, run_parts
from ..policy import IntegerScores, Policy
from ._bounds import ScoreBounds, employee_bounds
from ._generate import key_skill, loosest_levels
from ._tables import n_req, per_problem
from ._terms import arc_terms
from .eligibility import filter_eligible, skills_ok

__all__ = ["ScanStats", "priced_pairs"]

Triples = tuple[np.ndarray, np.ndarray, np.ndarray]

_CHUNK = 100_000  # employees per KD-tree query, at most
_QUERY_PAIRS = 4_000_000  # pairs a KD-tree query may draw, about (fewer employees per query where dense)
_MIN_CHUNK = 256
_SAMPLE = 256  # employees of a band whose neighbours are counted to size its queries
_MAX_PAIRS = 4_000_000  # pairs per chunk of a price-ordered cross product (remote missions)
# radius bands (km): each KD-tree query covers the employees of one band, with the band's largest radius
_POOL_MIN_PAIRS = 2 * 10**8  # employees x missions from which groups are scanned on a process pool
_TOL = 1e-12  # float margin of a bound comparison, relative to the bounds' magnitude
_CUT = 4  # with a cap, only the remote missions whose pairs would be over _CUT times the cap are cut short
_BATCH = 200_000  # pairs scored and tested at once (pieces of the bands and chunks joined)
_BANDS = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, np.inf])


@dataclass
class ScanStats:
    """What one scan did: raw pairs tested for eligibility, eligible arcs scored (counted, never
    stored), arcs that beat the prices, seconds, and whether it covered everything asked.
    ``cut``: the remote missions whose pairs a ``cap`` cut short (sorted): those pairs were not
    all drawn, and the scan covers them only when ``cut`` is empty."""

    pairs_tested: int = 0
    arcs_scanned: int = 0
    arcs_priced: int = 0
    seconds: float = 0.0
    complete: bool = True
    by_group: dict[int, int] = field(default_factory=dict)
    cut: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


#: (employee, mission, km, score, stats) of :func:`priced_pairs`.
ScanResult = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, ScanStats]


def _km_of_chord(chord: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))


def _band_pairs(xyz_e: np.ndarray, emps: np.ndarray, radius: np.ndarray, tree: cKDTree,
                mis: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Pairs (employee, mission, chord) within each employee's ``radius`` km of the missions
    of ``tree`` (``mis``), employees queried by radius band."""
    on = radius > 0
    emps, radius = emps[on], radius[on]
    band = np.searchsorted(_BANDS, radius, side="left")
    order = np.lexsort((emps, band))
    emps, radius, band = emps[order], radius[order], band[order]
    cuts = np.flatnonzero(np.diff(band)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, emps.size]):
        lo, hi = int(lo), int(hi)
        if hi <= lo:  # no employee reaches anything
            continue
        step = _chunk(xyz_e, emps[lo:hi], float(chord_of_km(radius[lo:hi].max())), tree)
        for start in range(lo, hi, step):
            stop = min(hi, start + step)
            ch = emps[start:stop]
            rmax = float(chord_of_km(radius[start:stop].max())) * (1 + 1e-9) + 1e-12
            sub = cKDTree(xyz_e[ch])
            p = sub.sparse_distance_matrix(tree, rmax, output_type="ndarray")
            yield ch[p["i"]], mis[p["j"]], p["v"]


def _chunk(xyz_e: np.ndarray, emps: np.ndarray, chord: float, tree: cKDTree) -> int:
    """Employees per KD-tree query of a radius band: :data:`_CHUNK`, or fewer where a query of
    that many would draw over :data:`_QUERY_PAIRS` pairs (their mean count, on an even sample of
    the band, within its largest radius): a dense band (a city, a wide radius) is queried in
    smaller pieces, so that a scan's memory does not follow the density (a national scan drew
    several gigabytes in one query)."""
    if emps.size * tree.n <= _QUERY_PAIRS:  # one query, whatever each reaches: nothing to count
        return max(int(emps.size), 1)
    sample = emps[np.linspace(0, emps.size - 1, min(emps.size, _SAMPLE)).astype(np.int64)]
    mean = float(tree.query_ball_point(xyz_e[sample], chord * (1 + 1e-9) + 1e-12, return_length=True).mean())
    return int(min(_CHUNK, max(_MIN_CHUNK, _QUERY_PAIRS // max(mean, 1.0))))


def _spatial(problem: Problem, xyz: tuple[np.ndarray, np.ndarray], emps: np.ndarray, mis: np.ndarray,
             slack_e: np.ndarray, slack_m: np.ndarray, per_km: float) -> Iterator[Triples]:
    """Pairs (and their km) within the employee's reach whose score bound beats the prices:
    ``per_km * km < slack_m + slack_e`` (``per_km = 0``: ``0 < slack_m + slack_e``)."""
    e = problem.employees
    xyz_e, xyz_m = xyz
    if emps.size == 0 or mis.size == 0:
        return
    if per_km > 0:
        rad_m = slack_m[mis] / per_km  # km a mission's pairs can reach, plus the employee's own
        band = np.searchsorted(_BANDS, rad_m, side="left")
    else:
        band = np.zeros(mis.size, np.int64)
    for b in np.unique(band).tolist():
        mb = mis[band == b]
        if per_km > 0:
            top = float(slack_m[mb].max()) / per_km
            radius = np.minimum(e.max_km[emps], slack_e[emps] / per_km + top)
        else:
            radius = np.where(slack_e[emps] + float(slack_m[mb].max()) > 0, e.max_km[emps], -1.0)
        tree = cKDTree(xyz_m[mb])
        for a, m, chord in _band_pairs(xyz_e, emps, radius, tree, mb):
            gain = slack_m[m] + slack_e[a]
            km = _km_of_chord(chord)
            keep = gain > per_km * km * (1 - 1e-9) if per_km > 0 else gain > 0
            yield a[keep], m[keep], km[keep]


def _by_price(emps: np.ndarray, mis: np.ndarray, se: np.ndarray, sm: np.ndarray, cap: int | None = None,
              cut: list[np.ndarray] | None = None) -> Iterator[Triples]:
    """Pairs of a cross product (remote missions, remote employees) with ``sm + se > 0`` (the
    slacks of ``mis`` and of ``emps``, aligned with them), found by sorting the employees by
    slack: each mission meets a prefix of them.

    With ``cap``, a mission whose prefix holds more than ``_CUT * cap`` employees meets only
    ``cap`` of them, spread over it: the missions of most slack take the employees of most
    slack, each the next ``cap`` of its prefix (wrapping around), so that the missions of a set
    do not all meet the same few.  The missions cut short are appended to ``cut``: their other
    pairs were not drawn (a mission cut short is drawn again whole later: cutting pays only
    when its prefix is much longer than ``cap``)."""
    if emps.size == 0 or mis.size == 0:
        return
    order = np.argsort(-se, kind="stable")
    emps, desc = emps[order], -se[order]  # desc ascending = slack descending
    count = np.searchsorted(desc, sm, side="left")  # employees with se > -sm
    on = count > 0
    mis, count, sm = mis[on], count[on], sm[on]
    if mis.size == 0:
        return
    first = np.zeros(mis.size, np.int64)
    size = count
    if cap is not None and int(count.max()) > _CUT * cap:
        over = count > _CUT * cap
        if cut is not None:
            cut.append(mis[over])
        rank = np.empty(mis.size, np.int64)
        rank[np.argsort(-sm, kind="stable")] = np.arange(mis.size)
        first = np.where(over, (rank * cap) % count, 0)
        size = np.where(over, cap, count)
    ends = np.cumsum(size)
    start = 0
    while start < mis.size:
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _MAX_PAIRS, side="right"))
        stop = max(stop, start + 1)
        c = size[start:stop]
        off = np.repeat(np.cumsum(c) - c, c)
        n = int(c.sum())
        idx = np.arange(n) - off
        if size is not count:  # capped: each mission's block of its prefix, wrapping around
            idx = (idx + np.repeat(first[start:stop], c)) % np.repeat(count[start:stop], c)
        yield emps[idx], np.repeat(mis[start:stop], c), np.zeros(n)  # remote: no travel
        start = stop


def _signatures(problem: Problem, mis: np.ndarray) -> np.ndarray:
    """Per mission of ``mis``, the index of its set of requirements (skill and level) among the
    distinct sets of ``mis``."""
    m = problem.missions
    n = n_req(problem)[mis]
    width = int(n.max(initial=0))
    codes = np.full((mis.size, max(width, 1)), np.iinfo(np.int64).max)
    for k in range(width):  # one pass per requirement rank
        has = n > k
        idx = m.req_ptr[mis[has]] + k
        codes[has, k] = m.req_skill[idx].astype(np.int64) * 256 + m.req_level[idx]
    codes.sort(axis=1)
    return np.unique(codes, axis=0, return_inverse=True)[1].ravel()


def _remote(problem: Problem, policy: Policy, scale: IntegerScores, emps: np.ndarray, mis: np.ndarray,
            y: np.ndarray, slack_m: np.ndarray, cap: int | None = None,
            cut: list[np.ndarray] | None = None) -> Iterator[Triples]:
    """Pairs of remote missions ``mis`` and ``remote_ok`` employees ``emps`` that may beat the
    prices, by sets of missions with the same requirements: each set meets only the employees
    who meet them, bounded with their exact ``skill_fit`` (:func:`~._bounds.employee_bounds`),
    and :func:`_by_price` pairs them by slack.  Without a travel term the bound is tight up to
    the employee-level terms left at their largest (preference, affinity), so that the pairs
    drawn are mostly those that do beat the prices, or fail their dates.  ``cap`` and ``cut``:
    as :func:`_by_price`'s."""
    if emps.size == 0 or mis.size == 0:
        return
    fit = bool(policy.weights()["skill_fit"])
    sig = _signatures(problem, mis)
    order = np.argsort(sig, kind="stable")
    cuts = np.flatnonzero(np.diff(sig[order])) + 1
    for ms in np.split(mis[order], cuts):
        rep = np.full(emps.size, ms[0], np.int32)
        es = emps[skills_ok(problem, emps, rep)]
        if es.size == 0:
            continue
        value = arc_terms(problem, es, rep[: es.size], np.zeros(es.size), ["skill_fit"])["skill_fit"] if fit else None
        se = employee_bounds(problem, policy, scale, es, value) - y[es]
        yield from _by_price(es, ms, se, slack_m[ms], cap, cut)


def _joined(parts: list[Triples]) -> Triples:
    a, b, c = zip(*parts)
    return np.concatenate(a), np.concatenate(b), np.concatenate(c)


def _batched(src: Iterator[Triples], halted: Callable[[], bool]) -> Iterator[Triples]:
    """The triples of ``src`` joined into batches of at least ``_BATCH`` pairs (the last may be
    smaller): the KD-tree bands and chunks yield many small pieces, and scoring and testing
    them one by one costs more in calls than in work.  ``halted`` (a deadline, Ctrl-C) is asked
    after each piece, empty ones included: once it answers True, what is held is yielded at once
    (empty, if nothing is), so that the caller sees it without waiting for a whole batch."""
    held: list[Triples] = []
    n = 0
    for t in src:
        if t[0].size:
            held.append(t)
            n += t[0].size
        if n >= _BATCH or halted():
            yield _joined(held) if held else t
            held, n = [], 0
    if held:
        yield _joined(held)


def _scan_group(ctx: tuple, grp: np.ndarray) -> tuple[tuple[np.ndarray, ...] | None, ScanStats]:
    """The arcs of one key-skill group's missions (``grp``) that beat the prices, and the work."""
    problem, policy, scale, bounds, y, v, scan_e, scan_m, deadline, stop, cap = ctx
    e, m = problem.employees, problem.missions
    stats = ScanStats()

    def halted() -> bool:
        return (deadline is not None and time.monotonic() > deadline) or (stop is not None and bool(stop()))

    if halted():
        stats.complete = False
        return None, stats
    # a float margin (the bounds are float64): a pair is skipped only if it is surely beaten
    big = float(np.abs(bounds.mission).max(initial=0.0)) + float(np.abs(bounds.employee).max(initial=0.0))
    # integer scores: a pair beats the prices only if its score reaches y + v + 1, so only if its
    # bound does; ``_TOL`` of the bounds' magnitude covers float64 rounding (errors are ~1e-15 of it)
    slack_e = bounds.employee - y
    slack_m = bounds.mission - v - (1.0 - _TOL * big - 1e-6)
    xyz = per_problem(problem, "unit_vectors", lambda p: (unit_vectors(p.employees.lat, p.employees.lon),
                                                          unit_vectors(p.missions.lat, p.missions.lon)))
    weighted = [t for t, w in policy.weights().items() if w]
    g = int(key_skill(problem)[grp[0]])
    all_e = np.arange(len(e), dtype=np.int32)
    emps_g = all_e[e.skill_level[:, g] >= loosest_levels(problem)[g]] if g >= 0 else all_e
    on = scan_e[emps_g]
    found = []
    cut: list[np.ndarray] = []
    for emps, mis in ((emps_g[on], grp), (emps_g[~on], grp[scan_m[grp]])):
        if emps.size == 0 or mis.size == 0:
            continue
        emps = emps[slack_e[emps] + float(slack_m[mis].max()) > 0]
        mis = mis[slack_m[mis] + float(slack_e[emps].max(initial=-np.inf)) > 0]
        if emps.size == 0 or mis.size == 0:
            continue
        rem = m.remote[mis]
        r_ok = e.remote_ok[emps]
        sources = [
            _spatial(problem, xyz, emps, mis[~rem], slack_e, slack_m, bounds.per_km),
            _spatial(problem, xyz, emps[~r_ok], mis[rem], slack_e, slack_m, bounds.per_km),  # in person
            _remote(problem, policy, scale, emps[r_ok], mis[rem], y, slack_m, cap, cut),
        ]
        for src in sources:
            for a, b, km in _batched(src, halted):
                # a group of the national instance can take minutes: the deadline is asked per piece too
                if halted():
                    stats.complete = False
                    return None, stats
                if a.size == 0:
                    continue
                # each pair is scored first (its terms need no eligibility), and only those that beat
                # the prices are tested for eligibility: most pairs drawn fail one or the other, and
                # scoring is the cheaper test (the margin covers a distance from the chord, not haversine)
                stats.pairs_tested += int(a.size)
                s0 = scale.apply(policy, arc_terms(problem, a, b, km, weighted))
                keep = s0 >= y[a] + v[b] - 2
                if not keep.any():
                    continue
                ea, ma, d = filter_eligible(problem, a[keep], b[keep])
                if ea.size == 0:
                    continue
                stats.arcs_scanned += int(ea.size)
                stats.by_group[g] = stats.by_group.get(g, 0) + int(ea.size)
                s = scale.apply(policy, arc_terms(problem, ea, ma, d, weighted))
                hit = s > y[ea] + v[ma]
                if hit.any():
                    found.append((ea[hit], ma[hit], d[hit], s[hit]))
    arcs = tuple(np.concatenate(x) for x in zip(*found)) if found else None
    if cut:
        stats.cut = np.unique(np.concatenate(cut)).astype(np.int32)
    return arcs, stats


def priced_pairs(problem: Problem, policy: Policy, scale: IntegerScores, bounds: ScoreBounds, y: np.ndarray,
                 v: np.ndarray, scan_e: np.ndarray, scan_m: np.ndarray, *,
                 deadline: float | None = None, workers: int = 1,
                 stop: Callable[[], bool] | None = None, cap: int | None = None) -> ScanResult:
    """Every eligible pair touching a scanned node whose integer score exceeds ``y[e] + v[m]``.

    Parameters
    ----------
    problem : Problem
    policy : Policy
    scale : IntegerScores
        The scale arcs are scored on (:func:`~._bounds.problem_scale`).
    bounds : ScoreBounds
        Score bounds on that scale (:func:`~._bounds.score_bounds`).
    y, v : ndarray of int64
        The prices of employees and missions.
    scan_e, scan_m : ndarray of bool
        The nodes whose pairs are scanned: a pair is scanned when its employee or its mission is.
    deadline : float, optional
        A ``time.monotonic()`` time after which the scan stops between two groups
        (``stats.complete`` is then False).
    workers : int, default 1
        Processes scanning the key-skill groups of a large problem (0: every core).
    stop : callable, optional
        Asked between groups and chunks: True stops the scan as the deadline does (Ctrl-C); on a
        process pool, this process asks it too and kills the workers (nothing found is kept).
    cap : int, optional
        Partial pricing of remote missions: one that more than ``4 * cap`` employees may beat
        meets only ``cap`` of them (spread over them, those of most slack first); the missions
        cut short are listed in ``stats.cut``, and only the pairs of the others are all found.

    Returns
    -------
    ea, ma : ndarray of int32
        The pairs that beat the prices (sorted by employee, then mission).
    km : ndarray of float64
        Their one-way distance.
    score : ndarray of int64
        Their integer score.
    stats : ScanStats

    Examples
    --------
    >>> import koeeo_match as km
    >>> from koeeo_match.candidates._bounds import problem_scale, score_bounds
    >>> p = km.synth.city(employees=60, seed=0)
    >>> pol = km.Policy.preset("max_hours")
    >>> sc = problem_scale(p, pol, max_arcs=10_000)
    >>> zero_e, zero_m = np.zeros(p.n_employees, np.int64), np.zeros(p.n_missions, np.int64)
    >>> ea, ma, d, s, st = priced_pairs(p, pol, sc, score_bounds(p, pol, sc), zero_e, zero_m,
    ...                                 np.ones(p.n_employees, bool), np.ones(p.n_missions, bool))
    >>> len(ea) == len(km.build_candidates(p, pol)) == st.arcs_scanned  # at zero prices, every arc
    True
    """
    t0 = time.perf_counter()
    e, m = problem.employees, problem.missions
    stats = ScanStats()
    key = key_skill(problem)
    order_m = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order_m])) + 1
    groups = [g for g in np.split(order_m.astype(np.int32), cuts) if g.size]
    loose = loosest_levels(problem)
    keys = np.array([key[g[0]] for g in groups if key[g[0]] >= 0], np.int64)  # each key skill's holders,
    held = dict(zip(keys.tolist(), np.count_nonzero(e.skill_level[:, keys] >= loose[keys], axis=0).tolist()))
    holders = [held[int(key[g[0]])] if key[g[0]] >= 0 else len(e) for g in groups]  # in one pass
    work = [h * g.size for h, g in zip(holders, groups)]
    big_first = sorted(range(len(groups)), key=lambda i: -work[i])
    n_proc = (workers or default_workers()) if len(e) * len(m) > _POOL_MIN_PAIRS else 1
    ctx = (problem, policy, scale, bounds, y, v, scan_e, scan_m, deadline, stop, cap)
    try:  # the pool's workers ask the deadline, and their own copy of ``stop``; a Ctrl-C that reaches this
        # process alone (an application's, not a terminal's) kills them
        results = run_parts(_scan_group, [(ctx, groups[i]) for i in big_first], n_proc, [work[i] for i in big_first],
                            stop=stop if n_proc > 1 else None)
    except PartsStopped:
        results = [(None, ScanStats(complete=False))]
    found = []
    cut_m = []
    for arcs, st_g in results:
        if arcs is not None:
            found.append(arcs)
        stats.pairs_tested += st_g.pairs_tested
        stats.arcs_scanned += st_g.arcs_scanned
        stats.complete &= st_g.complete
        cut_m.append(st_g.cut)
        for g, n in st_g.by_group.items():
            stats.by_group[g] = stats.by_group.get(g, 0) + n
    if found:
        ea, ma, d, s = (np.concatenate(x) for x in zip(*found))
        order = np.lexsort((ma, ea))
        ea, ma, d, s = ea[order], ma[order], d[order], s[order]
    else:
        ea, ma, d, s = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0), np.zeros(0, np.int64)
    stats.arcs_priced = int(ea.size)
    if cut_m:
        stats.cut = np.unique(np.concatenate(cut_m)).astype(np.int32)
    stats.seconds = time.perf_counter() - t0
    return ea, ma, d, s, stats
