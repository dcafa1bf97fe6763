"""Eligible pairs of a whole problem: every one, or a capped selection built in blocks."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from .._arrays import unique_sorted
from ..model import Problem
from ..parallel import PartsStopped, default_workers, run_parts
from ..policy import Policy
from ._cap import blocks, capped
from ._generate import (
    _CHUNK,
    STOP_CHUNK,
    key_skill,
    loosest_levels,
    nearest_pairs,
    remote_pairs,
    spatial_pairs,
    spread_pairs,
    unique_pairs,
)
from ._tables import pair_keys, per_problem
from .eligibility import filter_eligible

__all__ = ["eligible_pairs"]

Arcs = tuple[np.ndarray, np.ndarray, np.ndarray]

# With a cap k: each employee meets its NEAREST_POOL * k nearest missions (and each mission
# its MISSION_POOL * k nearest employees, each remote mission REMOTE_POOL * k remote employees)
# before the k best are kept.  A wider pool keeps more of the full graph's optimum at the price
# of slower candidate generation; the employee side matters most (docs/solvers.md, "The
# capped graph").
_NEAREST_POOL = 8
_MISSION_POOL = 4
_REMOTE_POOL = 2
_POOL_MIN_SIZE = 200_000  # employees + missions from which blocks are built on a process pool


def _every_pair(problem: Problem, emps: np.ndarray, mis: np.ndarray, emps_r: np.ndarray,
                remote: np.ndarray, stop: Callable[[], bool] | None = None) -> Arcs | None:
    """Every eligible pair of one key-skill group (None: none drawn); ``stop`` is asked before
    each chunk of candidate pairs but the first (a group begun gives at least one): True leaves
    that chunk and the others out, so a True answer always means pairs were left out."""
    parts = []
    near = spatial_pairs(problem, emps, mis, _CHUNK if stop is None else STOP_CHUNK)
    for i, (a, b) in enumerate(itertools.chain(near, remote_pairs(emps_r, mis[remote]))):
        if i and stop is not None and stop():
            break
        parts.append(filter_eligible(problem, a, b))
    if not parts:
        return None
    ea, ma, km = (np.concatenate(x) for x in zip(*parts))
    if len(parts) > 1:  # several sources may find the same pair
        _, first = np.unique(pair_keys(ea, ma, len(problem.missions)), return_index=True)
        ea, ma, km = ea[first], ma[first], km[first]
    return ea, ma, km


def _best_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, emps_r: np.ndarray, remote: np.ndarray,
                k: int, policy: Policy, threads: int, stop: Callable[[], bool] | None = None) -> Arcs | None:
    """The ``k`` best eligible pairs of each employee and mission of one key-skill group, among
    each side's nearest partners (None: none drawn).  ``stop`` is asked before each chunk of
    KD-tree queries (a group of a national block against every mission takes seconds): True
    keeps the chunks drawn so far."""
    chunks = []
    for chunk in nearest_pairs(problem, emps, mis, _NEAREST_POOL * k, threads, _MISSION_POOL * k):
        chunks.append(chunk)
        if stop is not None and stop():
            break
    if emps_r.size and remote.any() and not (stop is not None and stop()):
        chunks += list(spread_pairs(emps_r, mis[remote], _REMOTE_POOL * k))
    if not chunks:
        return None
    # both sides' nearest lists overlap: deduplicate the raw pairs (one sort of int64 keys),
    # then filter each pair once
    raw_e, raw_m = (np.concatenate(x) for x in zip(*chunks))
    ea, ma, km = filter_eligible(problem, *unique_pairs(raw_e, raw_m, len(problem.missions)))
    return capped(problem, policy, ea, ma, km, k)


def _group_pairs(problem: Problem, emps: np.ndarray, mis: np.ndarray, k: int | None = None,
                policy: Policy | None = None, threads: int = -1, stop: Callable[[], bool] | None = None) -> Arcs:
    """Eligible pairs between ``emps`` and ``mis``, one key-skill group at a time; each group's
    arcs capped to the ``k`` best per employee and per mission when ``k`` is given.  ``stop``
    is asked before each group: True leaves the groups not drawn yet out."""
    e, m = problem.employees, problem.missions
    key = key_skill(problem)
    out = []
    for g in unique_sorted(key[mis]).tolist():
        if stop is not None and stop():
            break
        mis_g = mis[key[mis] == g]
        emps_g = emps[e.skill_level[emps, g] >= loosest_levels(problem)[g]] if g >= 0 else emps
        # a remote mission is open to remote_ok employees anywhere, and to others within max_km
        remote, emps_r = m.remote[mis_g], emps_g[e.remote_ok[emps_g]]
        if k is None:
            arcs = _every_pair(problem, emps_g, mis_g, emps_r, remote, stop)
        else:
            assert policy is not None
            arcs = _best_pairs(problem, emps_g, mis_g, emps_r, remote, k, policy, threads, stop)
        if arcs is not None:
            out.append(arcs)
    if not out:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    ea, ma, km = (np.concatenate(x) for x in zip(*out))
    if k is not None and len(out) > 1:
        assert policy is not None
        ea, ma, km = capped(problem, policy, ea, ma, km, k)
    return ea, ma, km


def _capped_in_blocks(problem: Problem, k: int, policy: Policy, workers: int, emps: np.ndarray | None = None,
                      mis: np.ndarray | None = None, stop: Callable[[], bool] | None = None,
                      interrupt: Callable[[], bool] | None = None) -> Arcs:
    """The capped pairs, built block by block (on a process pool for large problems); between
    the employees ``emps`` and the missions ``mis`` only when given (default: all).  ``stop``
    is asked before each key-skill group of each block and each chunk of its queries (in the
    pool's workers too); ``interrupt``, by this process while a pool runs, kills it."""
    e, m = problem.employees, problem.missions
    all_e = np.arange(len(e), dtype=np.int32) if emps is None else np.asarray(emps, np.int32)
    all_m = np.arange(len(m), dtype=np.int32) if mis is None else np.asarray(mis, np.int32)
    if all_e.size == 0 or all_m.size == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    eb = per_problem(problem, "blocks_e", lambda p: blocks(p.employees.lat, p.employees.lon))[all_e]
    mb = per_problem(problem, "blocks_m", lambda p: blocks(p.missions.lat, p.missions.lon))[all_m]
    shared = np.intersect1d(eb, mb)
    parts = [(all_e[eb == b], all_m[mb == b]) for b in shared.tolist()]
    lone_e, lone_m = all_e[~np.isin(eb, shared)], all_m[~np.isin(mb, shared)]
    if lone_e.size:
        parts.append((lone_e, all_m))
    if lone_m.size:
        parts.append((all_e, lone_m))
    sizes = [a.size + b.size for a, b in parts]
    order = sorted(range(len(parts)), key=lambda i: -sizes[i])
    workers = workers or default_workers()
    pooled = workers > 1 and len(parts) > 1 and all_e.size + all_m.size > _POOL_MIN_SIZE
    # run_parts forks its workers with the tasks in memory: nothing large is pickled
    try:  # a Ctrl-C that reaches this process alone (an application's, not a terminal's) kills the pool
        res = run_parts(_group_pairs, [(problem, *parts[i], k, policy, 1 if pooled else -1, stop) for i in order],
                        workers if pooled else 1, [sizes[i] for i in order], stop=interrupt if pooled else None)
    except PartsStopped as ps:  # the blocks done are kept: the start graph is then a part, as with ``stop``
        res = [ps.done[i] for i in sorted(ps.done)]
    ea, ma, km = (np.concatenate(x) for x in zip(*res)) if res else (np.zeros(0, np.int32),) * 2 + (np.zeros(0),)
    if lone_e.size or lone_m.size:  # blocks overlap: remove duplicates, cap again
        _, first = np.unique(pair_keys(ea, ma, len(m)), return_index=True)
        ea, ma, km = capped(problem, policy, ea[first], ma[first], km[first], k)
    return ea, ma, km


def eligible_pairs(
    problem: Problem, *, k: int | None = None, policy: Policy | None = None, workers: int = 0,
    stop: Callable[[], bool] | None = None, interrupt: Callable[[], bool] | None = None,
) -> Arcs:
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
    connected components smaller, and OR-Tools' min-cost flow is
    superlinear in a component's size; what the blocks cost in hours placed
    is measured in docs/solvers.md, "The capped graph".
    Without ``k``, every eligible pair is returned (exact).

    Parameters
    ----------
    problem : Problem
    k : int, optional
        The cap on arcs per employee and per mission (None: every eligible pair).
    policy : Policy, optional
        With ``k``: the policy whose scores rank the arcs (required then).
    workers : int, default 0
        Processes that build the blocks of a large capped graph (0: every core).
    stop : callable, optional
        Asked before each key-skill group (of each block, with ``k``) and each chunk of pairs
        (a deadline, Ctrl-C); once it answers True, what is not drawn yet is left out, so the
        pairs returned are then only a part of the (capped) graph.  It must keep answering True once it has (the caller
        asks it again after the return to know whether anything was left out).  Forked
        workers ask their own copy: a deadline on ``time.monotonic()`` holds there too.
    interrupt : callable, optional
        With ``k``, on a process pool: asked by this process while the workers run; True
        kills them, and only the pairs of the blocks they had finished are returned (Ctrl-C
        sent to this process alone).

    Returns
    -------
    ea, ma : ndarray of int32
        Employee and mission of each pair.
    km : ndarray of float64
        One-way great-circle distance of each pair.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.synth.city(employees=100, seed=0)
    >>> ea, ma, d = eligible_pairs(p)
    >>> cap = eligible_pairs(p, k=1, policy=km.Policy.preset("max_hours"))
    >>> len(ea), len(cap[0]), bool((np.diff(ea) >= 0).all())
    (63, 48, True)
    """
    e, m = problem.employees, problem.missions
    if k is None:
        ea, ma, km = _group_pairs(problem, np.arange(len(e), dtype=np.int32), np.arange(len(m), dtype=np.int32),
                                  stop=stop)
    else:
        if policy is None:
            raise ValueError("The 'policy' parameter of eligible_pairs is required with k (it ranks the arcs).")
        ea, ma, km = _capped_in_blocks(problem, k, policy, workers, stop=stop, interrupt=interrupt)
    order = np.argsort(pair_keys(ea, ma, len(m)))  # pairs are distinct: one int64 sort
    return ea[order], ma[order], km[order]
