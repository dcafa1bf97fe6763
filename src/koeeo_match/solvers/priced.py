"""Exact min-cost flow on the whole problem without its whole graph: pricing, with a certificate.

The full eligibility graph of a national instance has billions of arcs; its optimum uses a
few million.  :func:`solve_priced` starts from a sparse graph (each employee's and each
mission's few best arcs among their nearest partners), and repeats:

1. solve the min-cost flow of the graph it holds (:func:`~koeeo_match.solvers.flow.network`,
   parts solved apart);
2. take the flow's node potentials (:mod:`._potentials`): the *prices* ``y[e]`` of employees
   and ``v[m]`` of missions.  A missing arc ``(e, m)`` could improve the flow only if its
   score exceeds ``y[e] + v[m]`` (a positive reduced cost);
3. scan the *implicit* full graph for such arcs (:func:`~koeeo_match.candidates.priced_pairs`:
   streamed by key-skill group, through KD-trees, and pruned by the prices themselves), add
   the best of them and go back to 1.

When a scan finds nothing, every eligible arc has a non-positive reduced cost: the potentials
are a dual certificate, and the flow is optimal for the whole problem, not only for the
graph held.  Scans after the first are incremental: a pair is scanned again only when the
price of one of its ends fell since it was last certified (the prices it was certified at are
kept), which keeps each scan to the part of the country where the solution moved.  Scans may
also be partial: a remote mission meets at most ``REMOTE_CAP`` of the employees that may beat its
price, and stays pending until a scan has drawn all of them (see ``remote_cap``; the free-pair
step, ``partial_k``, is off by default); only a scan that left nothing pending certifies.

The route applies to problems a flow expresses exactly *whatever their arcs*
(:func:`priced_obstacles`): no forced pairs or team minimums, employer daily caps and hour
budgets that cannot bind, and entitlements that fit the same number of missions whichever
durations they are.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np

from .._arrays import csr_ptr
from ..candidates import (
    MISSION_TERMS,
    ArcTerms,
    CandidateGraph,
    arc_terms,
    eligible_pairs,
    filter_eligible,
    in_sorted,
    pair_keys,
    problem_scale,
    score_bounds,
    top_k,
)
from ..errors import UnsupportedError
from ..model import Pairs, Problem
from ..parallel import PartsStopped
from ..policy import IntegerScores, Policy, vanished_note
from ..status import Status, Termination
from . import _auto_clock
from ._auto_clock import INTERRUPTED, CtrlC
from ._base import RawResult, SolveOptions
from ._priced_flow import NEVER, PricedFlow
from ._priced_rounds import free_arcs, greedy_keys, price_bound, scan_round, trivial_bound
from ._structure import hours_unit

__all__ = ["solve_priced", "start_pairs", "priced_obstacles", "flow_relaxation", "PricingRound", "START_K",
           "ADD_PER_NODE", "price_bound", "trivial_bound"]

log = logging.getLogger(__name__)

#: The start graph: each employee's and each mission's START_K best arcs among their nearest.
START_K = 5
#: Under a time limit, the start graph stops at this share of it (the rest: a first flow, or the greedy
#: answer on the arcs held when the start graph was cut short).
START_SHARE = 0.6
#: Per round, each employee's and each mission's ADD_PER_NODE arcs that price out best are added
#: (the others are scanned again in the next round).
ADD_PER_NODE = 10
#: A round may add at least this many arcs, however few are solved.
MIN_ADD = 200_000
#: Peak bytes per arc of a round's solve (network, OR-Tools, residual and potentials), and per arc held
#: but not solved; measured on the national instance's second round (39.7 M arcs solved, 18.6 GiB).
BYTES_PER_SOLVED_ARC = 480
BYTES_PER_HELD_ARC = 64
#: Share of the memory available that the arcs held and solved may take (the rest: the scan).
MEMORY_SHARE = 0.7
#: The scan runs on a process pool only while the arcs held take less than this share of it (the solve's
#: network is freed by then: what the workers are forked with is the arcs held and the problem).
SCAN_POOL_SHARE = 0.3
#: The scale of a priced graph is valid for at most this many arcs (its integer range depends on it).
MAX_ARCS = 200_000_000
#: The free-pair step of partial pricing (``solve_priced(..., partial_k=PARTIAL_K)``; off by default):
#: each free employee's and each free mission's PARTIAL_K best arcs among its nearest free partners.
#: Measured on Ille-et-Vilaine and a tenth of the national instance, free-free pairs are 8 % and 2 %
#: of the first round's arcs that price out (benchmarks/results/priced_round1.json): the step never
#: reaches FREE_SHARE there, and costs its one try (6 s at a tenth of the national).
PARTIAL_K = 3
#: A partial round is taken when the free pairs it adds are at least this share of the arcs solved
#: (and at least one); below, the round scans (which alone certifies), and so do all later rounds.
FREE_SHARE = 0.1
#: When a scan whose remote missions were capped (REMOTE_CAP) finds fewer new arcs than this share
#: of the arcs solved, the missions it cut short are scanned again whole in the same round.
UNCAP_SHARE = 0.01
#: A scan pairs each remote mission with at most REMOTE_CAP of the employees that may beat its price.
REMOTE_CAP = 2 * ADD_PER_NODE
#: Arcs whose gain at the current prices is below -SLACK (in score units: 0.05 is 2.5 km of travel
#: under max_hours) are left out of the next solve; they stay held and are priced every round.
SLACK = 0.05


@dataclass(frozen=True)
class PricingRound:
    """One round: arcs held and solved, the scan's work, what it added, and seconds.

    ``kind`` is ``"full"`` for a round whose scan drew every pair it had to, ``"capped"`` for one
    whose scan cut some remote missions short (``remote_cap``: those stay to be scanned), and
    ``"free"`` for one that paired free nodes only, without a scan (:func:`._priced_rounds.free_arcs`; its nodes:
    the free ones, ``arcs_scanned`` the eligible arcs drawn between them, no pair counted as
    tested).  Only a ``"full"`` round can end with the certificate.  ``flow_kept``: the round
    kept the last round's flow, proven still optimal on the arcs solved, instead of solving one
    (:class:`~._priced_flow.PricedFlow`).
    """

    arcs: int
    scanned_employees: int
    scanned_missions: int
    pairs_tested: int
    arcs_scanned: int
    arcs_priced: int
    arcs_added: int
    solve_seconds: float
    scan_seconds: float
    kind: str = "full"
    flow_kept: bool = False


def _need(held: int, solved: int) -> int:
    """Bytes a round's solve needs with ``held`` arcs held and ``solved`` of them solved."""
    return BYTES_PER_HELD_ARC * held + BYTES_PER_SOLVED_ARC * solved


def capacity(problem: Problem) -> np.ndarray:
    """Missions each employee can take: its entitlement over the shortest duration (exact for
    every set of its missions when :func:`priced_obstacles` is empty)."""
    e, m = problem.employees, problem.missions
    unit = hours_unit(np.concatenate([m.hours, e.hours]))
    h = np.round(m.hours * unit).astype(np.int64)
    H = np.round(e.hours * unit).astype(np.int64)
    if h.size == 0:
        return np.zeros(len(e), np.int64)
    return H // max(int(h.min()), 1)


def priced_obstacles(problem: Problem) -> list[str]:
    """Rules of ``problem`` that may defeat a flow on *some* set of its arcs ([] if none).

    The priced route never holds the whole graph, so it cannot look at the arcs as
    :func:`~koeeo_match.solvers.flow.flow_obstacles` does: it asks of the problem itself that
    no forced pair or team minimum exist, that no employer's daily cap be below its staff or
    its hour budget below their hours, and that each employee fit as many of the longest
    missions as of the shortest.

    >>> import koeeo_match as km
    >>> priced_obstacles(km.synth.city(employees=30, seed=0, rules="flow"))
    []
    """
    e, m, er = problem.employees, problem.missions, problem.employers
    out = []
    if len(problem.forced):
        out.append(f"forced pairs ({len(problem.forced)})")
    team = np.flatnonzero(m.min_seats > 1)
    if team.size:
        out.append(f"team minimum (min_seats > 1) on {team.size} mission(s), e.g. {m.ids[team[0]]!r}")
    taken = problem.taken
    started = np.zeros(0, np.int64) if taken is None else np.flatnonzero(taken.staffed)
    if started.size:
        out.append(f"team started below its minimum by fixed pairs on {started.size} mission(s), "
                   f"e.g. {m.ids[started[0]]!r}")
    if m.hours.size and e.hours.size:
        unit = hours_unit(np.concatenate([m.hours, e.hours]))
        h = np.round(m.hours * unit).astype(np.int64)
        H = np.round(e.hours * unit).astype(np.int64)
        mixed = np.flatnonzero(H // max(int(h.min()), 1) != H // max(int(h.max()), 1))
        if mixed.size:
            out.append(f"hours entitlement over missions of different durations for {mixed.size} employee(s), "
                       f"e.g. {e.ids[mixed[0]]!r}")
    if len(er):
        has = e.employer >= 0
        staff = np.bincount(e.employer[has], minlength=len(er))
        hours = np.bincount(e.employer[has], weights=e.hours[has], minlength=len(er))
        cap = er.daily_cap.astype(np.int64)
        if taken is not None and taken.cd_count.size:  # the busiest day of each employer sets its room
            busiest = np.zeros(len(er), np.int64)
            np.maximum.at(busiest, taken.cd_employer, taken.cd_count)
            cap = np.where(cap >= 0, np.maximum(cap - busiest, 0), cap)
        daily = np.flatnonzero((cap >= 0) & (staff > cap))
        if daily.size:
            out.append(f"employer daily cap below the employer's staff for {daily.size} employer(s), "
                       f"e.g. {er.ids[daily[0]]!r}")
        budget = np.flatnonzero(np.isfinite(er.hours_budget) & (hours > er.hours_budget))
        if budget.size:
            out.append(f"employer hours budget below the staff's hours for {budget.size} employer(s), "
                       f"e.g. {er.ids[budget[0]]!r}")
    return out


def flow_relaxation(problem: Problem) -> Problem:
    """The problem without the rules a flow cannot honour on every set of arcs: forced pairs,
    team minimums (teams pinned pairs started included), employer daily caps and hour budgets
    dropped (eligibility unchanged).

    Every assignment of ``problem`` is one of its relaxation, and :func:`solve_priced` with
    ``relax=True`` solves the relaxation exactly (an entitlement then counts missions of the
    shortest duration, which relaxes hours further): its optimum bounds ``problem``'s.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0, rules="all")
    >>> bool(priced_obstacles(p)), [o.split(" for ")[0] for o in priced_obstacles(flow_relaxation(p))]
    (True, ['hours entitlement over missions of different durations'])
    """
    m, er, taken = problem.missions, problem.employers, problem.taken
    if taken is not None:  # a reduced problem (fixed=): a team pinned pairs started need not run either
        taken = dataclasses.replace(taken, staffed=np.zeros_like(taken.staffed))
    return dataclasses.replace(
        problem, forced=Pairs.empty(),
        missions=dataclasses.replace(m, min_seats=np.minimum(m.min_seats, 1)),
        employers=dataclasses.replace(er, daily_cap=np.full(len(er), -1, er.daily_cap.dtype),
                                      hours_budget=np.full(len(er), np.inf)), taken=taken)


class _Graph:
    """The arcs held, sorted by (employee, mission), with their distance and integer score."""

    def __init__(self, problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray, score: np.ndarray):
        self.n_missions = problem.n_missions
        order = np.argsort(pair_keys(ea, ma, self.n_missions), kind="stable")
        self.ea, self.ma, self.km, self.score = ea[order], ma[order], km[order], score[order]
        self.keys = pair_keys(self.ea, self.ma, self.n_missions)
        self.active = np.ones(self.ea.size, bool)
        self.returned = np.zeros(self.ea.size, bool)  # arcs that came back once: never left out again

    def add(self, ea: np.ndarray, ma: np.ndarray, km: np.ndarray, score: np.ndarray) -> None:
        keys = np.concatenate([self.keys, pair_keys(ea, ma, self.n_missions)])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ea = np.concatenate([self.ea, ea.astype(np.int32)])[order]
        self.ma = np.concatenate([self.ma, ma.astype(np.int32)])[order]
        self.km = np.concatenate([self.km, km])[order]
        self.score = np.concatenate([self.score, score])[order]
        self.active = np.concatenate([self.active, np.ones(ea.size, bool)])[order]
        self.returned = np.concatenate([self.returned, np.zeros(ea.size, bool)])[order]

    def candidate_graph(self, problem: Problem, policy: Policy, scale: IntegerScores,
                        arcs: np.ndarray | None = None) -> CandidateGraph:
        """The arcs held (or those of ``arcs``, indices) as a candidate graph."""
        sl = slice(None) if arcs is None else arcs
        ea, ma, km = self.ea[sl], self.ma[sl], self.km[sl]
        return CandidateGraph(
            n_employees=problem.n_employees, n_missions=problem.n_missions, employee=ea, mission=ma,
            ptr=csr_ptr(ea, problem.n_employees), km=km, terms=ArcTerms(problem, ea, ma, km),
            score=self.score[sl], scale=scale, policy=policy)


def _uniform_primary(problem: Problem, policy: Policy, scale: IntegerScores | None) -> int | None:
    """The primary part of every arc's integer score (on ``scale``; None: 1 says yes) when it is
    the same for all arcs, None otherwise: a lexicographic policy whose primary terms are
    mission-level and equal on every mission with seats."""
    if not policy.primary or not set(policy.primary) <= set(MISSION_TERMS) or not problem.n_missions:
        return None
    if scale is not None and not scale.lexicographic:
        return None
    M = problem.n_missions
    terms = arc_terms(problem, np.zeros(M, np.int64), np.arange(M), np.zeros(M), list(policy.primary))
    prim = policy.score(terms, "primary")[problem.missions.seats > 0]
    if prim.size == 0 or prim.min() != prim.max() or prim[0] <= 0:
        return None
    if scale is None:
        return 1
    return int(np.round(prim[0] * scale.primary_scale)) * scale.multiplier


def start_pairs(problem: Problem, policy: Policy, k: int = START_K, workers: int = 0,
                stop: Callable[[], bool] | None = None,
                interrupt: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The start graph of a priced solve: each employee's and each mission's ``k`` best eligible
    arcs among their nearest partners (:func:`~koeeo_match.candidates.eligible_pairs`), as
    (employee, mission, km) arrays.  ``stop`` (a deadline, Ctrl-C) is asked before each
    key-skill group of each block and each chunk of its queries: once it answers True the
    start graph is only a part; ``interrupt`` kills a pool's workers (the blocks they had
    finished are returned)."""
    return eligible_pairs(problem, k=k, policy=policy, workers=workers, stop=stop, interrupt=interrupt)


def solve_priced(problem: Problem, policy: Policy, options: SolveOptions, *, start_k: int = START_K,
                 start: tuple[np.ndarray, ...] | list[tuple[np.ndarray, ...]] | None = None,
                 add_per_node: int = ADD_PER_NODE, partial_k: int = 0,
                 remote_cap: int | None = REMOTE_CAP,
                 memory_bytes: float | None = None, relax: bool = False,
                 start_seconds: float = 0.0) -> tuple[CandidateGraph, RawResult]:
    """The exact min-cost flow optimum of ``problem`` by pricing over its implicit graph.

    Parameters
    ----------
    problem : Problem
        A problem :func:`priced_obstacles` accepts.
    policy : Policy
    options : SolveOptions
        ``time_limit`` (seconds; checked between rounds and between the groups of a scan),
        ``workers`` and ``progress``.
    start_k : int
        The start graph keeps each employee's and each mission's ``start_k`` best arcs; under a
        time limit it is drawn until ``START_SHARE`` of it, or ``start_seconds`` if longer.
    start : tuple of ndarray, or a list holding one, optional
        Start from these (employee, mission) pairs instead (those not eligible are dropped), or
        from the (employee, mission, km) eligible arcs of :func:`start_pairs`.  A list is
        emptied as it is read: the caller then holds no copy of the start graph while pricing
        runs (a gigabyte nationally, in every round's forked flow process too).
    add_per_node : int
        Per round, each node's best arcs that price out are added, up to this many (and in all
        at most as many as the arcs solved, or ``MIN_ADD``).
    partial_k : int, default 0
        Partial pricing by free pairs (0: off; ``PARTIAL_K`` is the value meant): while free
        employees and free missions (capacity left, price 0) can be paired, a round adds each
        free node's ``partial_k`` best arcs among its nearest free partners instead of scanning,
        as long as they are at least ``FREE_SHARE`` of the arcs solved (from the first round
        that finds fewer, every round scans).  The certificate comes from a complete scan only.
    remote_cap : int, optional
        A scan pairs each remote mission with at most this many of the employees that may beat
        its price (:func:`~koeeo_match.candidates.priced_pairs`'s ``cap``); the missions cut
        short are scanned again in the next round, or whole in the same round when the capped
        scan finds fewer new arcs than ``UNCAP_SHARE`` of the arcs solved (None: every pair,
        at once).
    memory_bytes : float, optional
        The memory the solve may use: a round adds no more arcs than the next solve can hold
        (:data:`BYTES_PER_SOLVED_ARC`, :data:`BYTES_PER_HELD_ARC`); when none fits, pricing stops
        with the flow of the arcs held (status ``feasible``, no proof, and the message says why).
    relax : bool, default False
        Solve the relaxation that counts each entitlement in missions of the shortest duration
        (:func:`capacity`) even where durations differ: exact for that relaxation, an upper
        bound for ``problem`` (used on :func:`flow_relaxation`).

    Returns
    -------
    graph : CandidateGraph
        The arcs held at the end (``k=None``: a part of the full graph), on the problem's scale.
    result : RawResult
        ``selected`` indexes ``graph``.  ``status`` is optimal when the last scan found no arc
        with a positive reduced cost (the certificate); ``stats["pricing"]`` records the rounds.

    Raises
    ------
    UnsupportedError
        The problem has a rule the route cannot honour (:func:`priced_obstacles`).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=200, seed=1, rules="flow")
    >>> pol = km.Policy.preset("max_hours")
    >>> g, res = solve_priced(p, pol, SolveOptions(), start_k=1)
    >>> full = km.solve(p, method="flow")
    >>> res.status.value, float(g.terms["hours"][res.selected].sum()) == full.objective
    ('optimal', True)
    """
    t_start = time.monotonic()
    obstacles = [o for o in priced_obstacles(problem) if not (relax and o.startswith("hours entitlement"))]
    if obstacles:
        raise UnsupportedError("The priced flow cannot honour these rules of the problem: " + "; ".join(obstacles)
                               + ". Use method='auto' (every rule) or a capped graph (top_k).")
    deadline = None if options.time_limit is None else t_start + options.time_limit
    if memory_bytes is not None and not np.isfinite(memory_bytes):
        memory_bytes = None
    E, M = problem.n_employees, problem.n_missions
    k = capacity(problem)
    seats = problem.missions.seats.astype(np.int64)
    # with one primary value for all arcs, the flow solver sees secondary scores alone (see PricedFlow):
    # the full scores need only fit int64 totals, not OR-Tools' cost range over the whole network
    flat = _uniform_primary(problem, policy, None) is not None
    scale = problem_scale(problem, policy, max_arcs=0 if flat else int(min(MAX_ARCS, max(E * M, 1))))
    bounds = score_bounds(problem, policy, scale)
    weighted = [t for t, w in policy.weights().items() if w]
    uniform = _uniform_primary(problem, policy, scale)
    slack = int(SLACK * scale.secondary_scale)
    best_bound = first_bound = trivial_bound(problem, bounds, k)
    rounds: list[PricingRound] = []
    certified, stopped, out_of_memory, fallback = False, False, False, ""
    with CtrlC() as ctrl_c:  # Ctrl-C ends pricing between rounds, or between the groups of a scan or start
        halt = functools.partial(_auto_clock.stopped, deadline)
        if isinstance(start, list) and len(start) == 1 and isinstance(start[0], tuple):
            start = start.pop()  # a box the caller handed its start graph over in: emptied
        given = cast("tuple[np.ndarray, ...] | None", start)  # (a list holds one tuple: taken out above)
        if given is None:  # by START_SHARE of the limit, so that a greedy answer has time if it comes to that
            halt_start = functools.partial(_auto_clock.stopped, None if deadline is None
                                           else t_start + max(START_SHARE * (deadline - t_start), start_seconds))
            ea, ma, km = start_pairs(problem, policy, start_k, options.workers, stop=halt_start,
                                     interrupt=INTERRUPTED.is_set)
            partial_start = halt_start()
        elif len(given) == 3:
            ea, ma, km = given
            partial_start = False
        else:
            ea, ma, km = filter_eligible(problem, np.asarray(given[0]), np.asarray(given[1]))
            partial_start = False
        terms = arc_terms(problem, ea, ma, km, weighted)
        score = scale.apply(policy, terms)
        # start arcs whose worth the integer scale cannot see (weights far apart): said, as on a whole graph
        vanished = "" if scale.lexicographic else vanished_note(policy, terms, scale.secondary_scale)
        useful = (score > 0) & (k[ea] > 0) & (seats[ma] > 0)
        held = _Graph(problem, ea[useful], ma[useful], km[useful], score[useful])
        start = given = None  # held has its own sorted copies of the start graph (a gigabyte nationally)
        del ea, ma, km, terms, score, useful
        never_e, never_m = k <= 0, seats <= 0
        pending_e, pending_m = ~never_e, ~never_m
        # the certified prices start at 0, NEVER for nodes that can take nothing: the scan never meets those
        Y, V = np.where(never_e, NEVER, 0).astype(np.int64), np.where(never_m, NEVER, 0).astype(np.int64)
        flow = PricedFlow(problem, k, uniform, options.workers, options.executor, stop=halt)
        try_free = partial_k > 0
        sel_keys: np.ndarray | None = None
        while True:
            t0 = time.perf_counter()
            act = np.flatnonzero(held.active)
            graph = held.candidate_graph(problem, policy, scale, act)
            # a flow cannot be stopped where it runs: it starts only if its estimate fits in the time left,
            # and a large one runs in processes killed at the deadline or on Ctrl-C
            no_flow = ""
            if partial_start and not len(graph):  # nothing held: a flow would price every arc out at once
                no_flow = "the start graph stopped at its share of the limit before it held an arc"
            elif halt() or not _auto_clock.fits(
                    deadline, _auto_clock.estimate(_auto_clock.PRICED_SECONDS_PER_ARC, len(graph))):
                no_flow = ("the start graph stopped at its share of the limit and no time was left for a flow"
                           if partial_start else "no time was left for a first flow")
            else:
                chosen = None if sel_keys is None else in_sorted(held.keys[act], sel_keys)
                try:
                    sel_act, y, v = flow.solve(graph, chosen, rounds[-1].arcs_added if rounds else 0)
                except PartsStopped:
                    no_flow = "the first flow was stopped at the deadline"
            if no_flow:
                stopped = True
                if sel_keys is None:  # no flow yet: the greedy answer on the arcs held, by the deadline
                    fallback = "Ctrl-C came" if INTERRUPTED.is_set() else no_flow
                    sel_keys = greedy_keys(problem, held.candidate_graph(problem, policy, scale), held.keys, halt,
                                            deadline)
                break
            selected = act[sel_act]
            sel_keys = held.keys[selected]
            value = int(graph.score[sel_act].sum())
            n_solved = len(graph)
            del graph  # its arrays are the held arcs' copies: freed before the scan (gigabytes nationally)
            y[never_e], v[never_m] = NEVER, NEVER
            # the arcs held but left out of the solve are priced here, in memory
            gain = held.score - y[held.ea] - v[held.ma]
            back = ~held.active & (gain > 0)
            # the solve keeps only the arcs that may matter soon: those used, and those whose gain is
            # within ``slack`` of the prices (the others are still held, priced every round); an arc
            # that came back once stays in (the prices of another optimum could send it back again,
            # each time for a round of its own)
            held.returned |= back
            held.active = (gain >= -slack) | held.returned
            held.active[selected] = True
            t_solve = time.perf_counter() - t0
            dirty_e = pending_e | (y < Y)
            dirty_m = pending_m | (v < V)
            Yc, Vc = np.where(dirty_e, y, Y), np.where(dirty_m, v, V)
            out_of_time = deadline is not None and time.monotonic() > deadline
            if out_of_time or INTERRUPTED.is_set():
                stopped = True
                break
            # the scan's workers are forked with what this process holds and build their own pairs: on
            # a process pool only while the arcs held leave room for them (the solve's network, which
            # _need counts, is freed by now: counting it kept every national scan on one core)
            busy = BYTES_PER_HELD_ARC * held.ea.size
            scan_workers = options.workers if memory_bytes is None or busy < SCAN_POOL_SHARE * memory_bytes else 1
            # partial pricing: while free employees and free missions (priced at 0) can still be paired,
            # a round adds some of those pairs (each free node's few best among its nearest free
            # partners) without a scan; the scan, which alone certifies, runs when they run out
            free, t_free, cut = None, 0.0, 0
            if try_free:
                fea, fma, fkm, fsc, free = free_arcs(problem, policy, scale, held, selected, k, seats, y, v,
                                                      partial_k, scan_workers)
                if fea.size < max(1, FREE_SHARE * act.size):  # too few: this round scans, and every later one
                    t_free, free, try_free = free.seconds, None, False
            if free is not None:
                nea, nma, nkm, nsc, py, pv = fea, fma, fkm, fsc, y, v
                del fea, fma, fkm, fsc
                n_e, n_m, tested, scanned, priced_out, complete, t_scan = (
                    free.employees, free.missions, 0, free.arcs_drawn, free.arcs_priced, True, free.seconds)
            else:
                # remote missions meet at most ``remote_cap`` of the employees that may beat their price
                # (partial pricing of the cross products): those cut short stay pending, scanned again
                # next round, or at once when the capped scan finds few new arcs
                enough = max(1.0, UNCAP_SHARE * act.size) - int(back.sum())
                found = scan_round(problem, policy, scale, bounds, Yc, Vc, dirty_e, dirty_m, held.keys, enough,
                                   remote_cap, deadline, scan_workers)
                Y, V = Yc, Vc
                pending_e, pending_m = np.zeros(E, bool), np.zeros(M, bool)
                pending_m[found.cut] = True
                nea, nma, nkm, nsc, py, pv = found.ea, found.ma, found.km, found.score, Yc, Vc
                n_e, n_m, tested, scanned, priced_out, complete, t_scan, cut = (
                    int(dirty_e.sum()), int(dirty_m.sum()), found.pairs_tested, found.arcs_scanned, found.arcs_priced,
                    found.complete, found.seconds + t_free, found.cut.size)
                if complete and not cut:  # every eligible arc neither solved nor found prices in: a bound
                    best_bound = min(best_bound, price_bound(
                        value, k, seats, np.concatenate([nea, held.ea[back]]), np.concatenate([nma, held.ma[back]]),
                        np.concatenate([nsc - Yc[nea] - Vc[nma], gain[back]])))
                del found
            if nea.size:
                ngain = (nsc - py[nea] - pv[nma]).astype(np.float64)
                keep = top_k(nea, ngain, add_per_node) | top_k(nma, ngain, add_per_node)
                # a round at most doubles the arcs solved, and the next solve must fit in memory
                room = max(MIN_ADD, int(act.size))
                if memory_bytes is not None:  # the next solve, with a margin for the scan that follows it
                    room = min(room, int((MEMORY_SHARE * memory_bytes - _need(held.ea.size, act.size))
                                         // BYTES_PER_SOLVED_ARC))
                if int(keep.sum()) > max(room, 0):
                    best = np.flatnonzero(keep)[np.argsort(-ngain[keep], kind="stable")[: max(room, 0)]]
                    keep = np.zeros(nea.size, bool)
                    keep[best] = True
                    out_of_memory = room <= 0
                if free is None:  # not added: their pairs are scanned again next scan
                    pending_e[nea[~keep]] = True
                    pending_m[nma[~keep]] = True
                held.add(nea[keep], nma[keep], nkm[keep], nsc[keep])
                added = int(keep.sum())
                del ngain, keep
            else:
                added = 0
            kind = "free" if free is not None else "capped" if cut else "full"
            n_back = int(back.sum())
            # what the scan found and the gains are not kept into the next round's solve, whose process is
            # forked with this one's memory (2 GiB after the first national scan)
            del nea, nma, nkm, nsc, gain, back
            rounds.append(PricingRound(n_solved, n_e, n_m, tested, scanned, priced_out, added + n_back,
                                       t_solve, t_scan, kind, flow.last_kept))
            if free is not None:
                what = (f"partial pricing of {n_e:,} free employees / {n_m:,} free missions drew "
                        f"{scanned:,} eligible arcs")
            else:
                what = (f"scan of {n_e:,} employees / {n_m:,} missions tested {tested:,} pairs, "
                        f"{scanned:,} eligible arcs")
                what += f" ({cut:,} remote missions cut short)" if cut else ""
            how = "flow kept on" if flow.last_kept else "arcs solved"
            msg = (f"pricing round {len(rounds)}: {n_solved:,} {how} ({held.ea.size:,} held) in "
                   f"{t_solve:.1f} s; {what}, {priced_out:,} price out, {added:,} added, "
                   f"{n_back:,} held arcs back ({t_scan:.1f} s)")
            log.info(msg)
            if options.progress:
                options.progress(msg)
            if free is not None:
                if out_of_memory:
                    break
                continue
            if not complete:
                stopped = True
                break
            if added == 0 and not n_back and not pending_e.any() and not pending_m.any():
                certified = True
                break
            if out_of_memory:
                break
    graph = held.candidate_graph(problem, policy, scale)
    assert sel_keys is not None
    selected = np.searchsorted(held.keys, sel_keys)
    total = int(graph.score[selected].sum())
    timing = ("solve_seconds", "scan_seconds")
    stats = {
        "method": "priced",
        "vanished": vanished,
        "pricing": {
            "rounds": len(rounds),
            "certified": certified,
            "arcs_materialised": len(graph),
            "pairs_tested": sum(r.pairs_tested for r in rounds),
            "arcs_scanned": sum(r.arcs_scanned for r in rounds),
            "full_solves": flow.full_solves,
            "kept_flows": flow.kept_flows,
            "fallback": fallback or None,
            "partial_rounds": sum(r.kind != "full" for r in rounds),
            "per_round": [{k: v for k, v in asdict(r).items() if k not in timing} for r in rounds],
        },
        "pricing_round_seconds": [[round(r.solve_seconds, 3), round(r.scan_seconds, 3)] for r in rounds],
    }
    if certified:
        return graph, RawResult(selected, Status.OPTIMAL, total, "", stats)
    why = ("Ctrl-C" if ctrl_c.happened else "the time limit" if stopped
           else "the memory available (the next round would not fit)")
    if fallback:
        msg = (f"{why} stopped pricing before its first flow ({fallback}): the greedy solution on the best of "
               f"the {len(graph):,} arcs held")
    else:
        msg = (f"{why} stopped pricing before its certificate: the solution is optimal on the "
               f"{len(graph):,} arcs held, not proven for the whole problem")
    msg += ("; bound for the whole problem: the prices of a complete scan, raised to price in every arc left out"
            if best_bound < first_bound else
            "; bound for the whole problem: each employee's (or mission's) best possible score on each of its places")
    end = Termination.INTERRUPTED if ctrl_c.happened else Termination.TIME_LIMIT if stopped else None
    return graph, RawResult(selected, Status.FEASIBLE, max(best_bound, total), msg, stats, termination=end)
