"""Exact min-cost flow on flow-expressible problems (the network built here, solved by :mod:`._mcf`).

The network, built with vectorised array calls::

    source -> employee (capacity k_e) -> [employee, date] (1) -> [mission, employer] (max_per_employer)
           -> mission (seats) -> sink ;  source -> sink (bypass, cost 0)

Each candidate arc costs ``-score``.  ``k_e`` is the number of missions an
employee can take: flow is exact for an employee only when *every* choice of
``k_e`` of its candidate missions fits its hours (e.g. two 3.5 h workshops or
one 7 h day, but not a mix).  Intermediate ``[employee, date]`` and
``[mission, employer]`` nodes are added only where they can bind.

Rules a flow cannot express — team minimums, binding employer daily caps or
hour budgets, mixed durations within one employee's entitlement, forced pairs
— make :func:`flow_obstacles` non-empty and :func:`solve_flow` refuse with
:class:`~koeeo_match.errors.UnsupportedError` naming them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .._arrays import dense, first_of, fitting_counts, present, unique_sorted
from ..candidates import CandidateGraph, eligible_pairs
from ..decompose import Part, components, cut
from ..errors import SolverError, UnsupportedError
from ..model import Problem, restrict
from ..parallel import Remote, default_workers, run_parts
from ..policy import cost_limit, unseen_terms
from ..status import Status
from . import _mcf
from ._base import RawResult, SolveOptions, register
from ._structure import Structure, group_ids, structure

__all__ = ["solve_flow", "flow_relaxation", "hours_relaxation_bound", "flow_obstacles", "defeats_flow",
           "certain_obstacles", "employee_capacity",
           "FlowJob", "run_flow_job"]


# Components are solved apart, never merged beyond this many arcs: both flow solvers (._mcf) are
# superlinear in the network size, and small parts balance the pool.
PART_ARCS = 250_000

_CAPACITY: weakref.WeakKeyDictionary[Structure, tuple] = weakref.WeakKeyDictionary()


def employee_capacity(graph: CandidateGraph, st: Structure) -> tuple[np.ndarray, np.ndarray]:
    """Per employee: how many missions fit (``k``), and whether that count is exact.

    ``k`` is the largest count whose *smallest* durations fit the entitlement;
    it is exact when the ``k`` *largest* durations fit too.  Employees whose
    candidate missions all last the same are counted without sorting.
    """
    return _capacities(graph, st)[:2]


def safe_capacity(graph: CandidateGraph, st: Structure) -> np.ndarray:
    """Per employee: how many missions fit its hours *whichever* of its candidates they are
    (the count of its longest durations that fit): a flow with these capacities never breaks
    an hours entitlement."""
    return _capacities(graph, st)[2]


def _capacities(graph: CandidateGraph, st: Structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, exact, safe) of :func:`employee_capacity` and :func:`safe_capacity`, cached per structure."""
    hit = _CAPACITY.get(st)
    if hit is not None and hit[0]() is graph:
        return hit[1]
    E = graph.n_employees
    ea, h = graph.employee, st.arc_hours
    deg = np.diff(graph.ptr)
    k = np.zeros(E, np.int64)
    exact = np.ones(E, bool)
    safe = k
    if ea.size:
        has = deg > 0
        starts = graph.ptr[:-1][has]
        hmin = np.minimum.reduceat(h, starts)
        hmax = np.maximum.reduceat(h, starts)
        emp = np.flatnonzero(has)
        same = hmin == hmax
        k[emp[same]] = np.minimum(deg[emp[same]], st.emp_hours[emp[same]] // np.maximum(hmin[same], 1))
        mixed = emp[~same]
        if mixed.size:
            is_mixed = np.zeros(E, bool)
            is_mixed[mixed] = True
            arcs = np.flatnonzero(is_mixed[ea])  # a lookup, not np.isin (a hash of 2 M arcs)
            local = np.zeros(E, np.int64)
            local[mixed] = np.arange(mixed.size)
            k_small, k_large = np.zeros(E, np.int64), np.zeros(E, np.int64)
            k_small[mixed], k_large[mixed] = fitting_counts(local[ea[arcs]], h[arcs], st.emp_hours[mixed])
            k[mixed] = k_small[mixed]
            exact[mixed] = (k_small == k_large)[mixed]
            safe = k.copy()
            safe[mixed] = k_large[mixed]
    _CAPACITY[st] = (weakref.ref(graph), (k, exact, safe))
    return k, exact, safe


def flow_obstacles(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> list[str]:
    """Rules of this problem that a min-cost flow cannot honour exactly ([] if none); cached per
    structure (``auto`` asks it of the same graph up to three times: 1 s each at 2 M arcs)."""
    st = st or structure(problem, graph)
    hit = _OBSTACLES.get(st)
    if hit is not None and hit[0]() is graph:
        return list(hit[1])
    out = _obstacles(problem, graph, st)
    _OBSTACLES[st] = (weakref.ref(graph), tuple(out))
    return out


_OBSTACLES: weakref.WeakKeyDictionary[Structure, tuple] = weakref.WeakKeyDictionary()


def defeats_flow(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> bool:
    """``bool(flow_obstacles(...))``, the cheap rules first: forced pairs, team minimums and teams
    started by pinned pairs answer at once, without the employees' capacities (a sort of every
    arc) and the employers' caps (0.2-0.9 s at 2 M arcs, docs/solvers.md "Time limits").

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0, rules="all")
    >>> g = km.build_candidates(p, "max_hours")
    >>> defeats_flow(p, g) == bool(flow_obstacles(p, g))
    True
    """
    st = st or structure(problem, graph)
    if st.forced_arc.size or st.staffed.any() or st.team[graph.mission].any():
        return True
    return bool(flow_obstacles(problem, graph, st))


def certain_obstacles(problem: Problem) -> list[str]:
    """The rules of :func:`flow_obstacles` that ``problem`` alone shows on its full graph (every
    eligible pair, ``top_k=None``), before that graph is built: forced pairs (each is
    eligible), teams started by pinned pairs, and team minimums on the missions some employee
    is eligible for (the team missions in chunks until one has a candidate: the first by index,
    which :func:`flow_obstacles` names too).  The other rules (durations, employers' caps
    and budgets, ``max_per_employer`` for ``stable``) bind or not depending on every pair.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=300, seed=3, rules="all")
    >>> certain_obstacles(p)
    ["team minimum (min_seats > 1) on missions some employee is eligible for, e.g. 'm000031'"]
    >>> flow_obstacles(p, km.build_candidates(p, "max_hours"))[0]
    "team minimum (min_seats > 1) on 7 mission(s), e.g. 'm000031'"
    """
    m = problem.missions
    out = []
    if len(problem.forced):
        out.append(f"forced pairs ({len(problem.forced)})")
    team = np.flatnonzero(m.min_seats > 1)
    lo, size = 0, 64
    while lo < team.size:  # the first team mission some employee is eligible for: a few chunks, not them all
        chunk = team[lo: lo + size]
        _, ma, _ = eligible_pairs(restrict(problem, np.arange(problem.n_employees), chunk))
        if ma.size:
            out.append(f"team minimum (min_seats > 1) on missions some employee is eligible for, e.g. "
                       f"{m.ids[chunk[int(ma.min())]]!r}")
            break
        lo, size = lo + size, size * 4
    taken = problem.taken
    started = np.zeros(0, np.int64) if taken is None else np.flatnonzero(taken.staffed)
    if started.size:
        out.append(f"team started below its minimum by fixed pairs on {started.size} mission(s), "
                   f"e.g. {m.ids[started[0]]!r}")
    return out


def _obstacles(problem: Problem, graph: CandidateGraph, st: Structure) -> list[str]:
    ea, ma = graph.employee, graph.mission
    out = []
    if st.forced_arc.size:
        out.append(f"forced pairs ({st.forced_arc.size})")
    teams = present(ma[st.team[ma]], graph.n_missions)
    if teams.size:
        out.append(f"team minimum (min_seats > 1) on {teams.size} mission(s), e.g. {problem.missions.ids[teams[0]]!r}")
    started = np.flatnonzero(st.staffed)
    if started.size:
        out.append(f"team started below its minimum by fixed pairs on {started.size} mission(s), "
                   f"e.g. {problem.missions.ids[started[0]]!r}")
    _, exact = employee_capacity(graph, st)
    bad = np.flatnonzero(~exact)
    if bad.size:
        out.append(
            f"hours entitlement over missions of different durations for {bad.size} employee(s), "
            f"e.g. {problem.employees.ids[bad[0]]!r}"
        )
    has = st.cd >= 0
    if has.any():
        # distinct (group, employee) pairs, as one int64 key each (a 1-d sort: unique(axis=0) took 1 s
        # at 2 M arcs)
        keys = unique_sorted(st.cd[has].astype(np.int64) * graph.n_employees + ea[has])
        n_emp = np.bincount(keys // graph.n_employees, minlength=st.n_cd)
        binding = np.flatnonzero(n_emp > st.cd_cap)
        if binding.size:
            emp = problem.employees.employer[ea[np.flatnonzero(st.cd == binding[0])[0]]]
            out.append(
                f"employer daily cap that binds on {binding.size} (employer, date) pair(s), "
                f"e.g. employer {problem.employers.ids[emp]!r}"
            )
    hb = st.budget_emp >= 0
    if hb.any():
        tot = np.bincount(ea, weights=st.arc_hours, minlength=graph.n_employees)
        most = np.minimum(st.emp_hours, tot)
        emp_of = problem.employees.employer
        has_emp = emp_of >= 0
        possible = np.bincount(emp_of[has_emp], weights=most[has_emp], minlength=len(problem.employers))
        binding = np.flatnonzero((st.budget >= 0) & (possible > st.budget))
        if binding.size:
            out.append(f"employer hours budget that binds for {binding.size} employer(s), "
                       f"e.g. {problem.employers.ids[binding[0]]!r}")
    return out


@register("flow", supports=("max_per_employer",),
          screens=("forced", "team_minimum", "daily_cap", "hours_budget", "mixed_durations"))
def solve_flow(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """Exact maximum-score assignment by min-cost flow (refuses rules a flow cannot express)."""
    st = structure(problem, graph)
    obstacles = flow_obstacles(problem, graph, st)
    if obstacles:
        raise UnsupportedError(
            "method='flow' cannot honour these rules of the problem: "
            + "; ".join(obstacles)
            + ". Use method='cpsat' (exact, every rule) or method='auto'."
        )
    return _flow_network(problem, graph, options, st)


def flow_relaxation(problem: Problem, graph: CandidateGraph, options: SolveOptions,
                    capacity: np.ndarray | None = None) -> RawResult:
    """The same network with the rules a flow cannot express left out: an upper bound.

    Team minimums, employer daily caps and budgets and forced pairs are dropped,
    and each employee may take ``k`` missions where ``k`` counts its shortest
    durations — every feasible assignment is a flow of this network, so its
    optimum bounds the problem's.  The selected arcs may break the dropped rules.
    ``capacity`` (missions per employee) replaces ``k``: with :func:`safe_capacity` the
    flow keeps every hours entitlement, and is then a warm start, no longer a bound.
    """
    return _flow_network(problem, graph, options, structure(problem, graph), capacity)


def _flow_network(problem: Problem, graph: CandidateGraph, options: SolveOptions, st: Structure,
                  capacity: np.ndarray | None = None) -> RawResult:
    E, M = graph.n_employees, graph.n_missions
    keep = np.flatnonzero(graph.score > 0)  # an arc of score <= 0 never improves the objective
    if keep.size == 0:
        return RawResult(np.zeros(0, np.int64), Status.OPTIMAL, 0.0, "", {"arcs": 0})
    whole = keep.size == len(graph)  # the usual case: no copies
    ka = graph.employee if whole else graph.employee[keep]
    km_ = graph.mission if whole else graph.mission[keep]
    k = employee_capacity(graph, st)[0] if capacity is None else capacity
    ed_grp, mc_grp = _layers(st, k, keep, ka, whole)
    cost, by_max_flow, own_note = _costs(graph, keep, whole)

    # independent parts: connected components of the kept arcs, packed into parts of at most
    # PART_ARCS arcs (positions in ``keep``); each part's network is built and solved by a pool worker
    n_comp, label = components(E, M, ka, km_)
    parts = cut(ka, km_, E, M, PART_ARCS, label=label[ka])  # arcs of a part stay in employee order
    n_net = keep.size + np.count_nonzero(np.diff(ka)) + 1 + present(km_, M).size
    if options.progress:
        options.progress(f"flow: {keep.size:,} candidate arcs in {len(parts)} part(s) of {n_comp:,} components")
    ctx = (ka, km_, k, ed_grp, mc_grp, st.mc_cap, problem.missions.seats, cost, by_max_flow)
    workers = (options.workers or default_workers()) if keep.size > 300_000 else 1
    results = run_parts(_solve_part, [(ctx, part) for part in parts], workers, [len(part) for part in parts],
                        executor=options.executor, remote=_REMOTE)
    sel_pos = np.sort(np.concatenate([part.to_whole(r[0]) for part, r in zip(parts, results)]))
    total_cost = sum(r[1] for r in results)
    selected = keep[sel_pos]
    total = int(graph.score[selected].sum())
    if total_cost != int(cost[sel_pos].sum()):  # cost is -score, or -secondary by max flow
        raise SolverError("min-cost flow: the optimal cost and the selected arcs disagree.")
    return RawResult(selected, Status.OPTIMAL, total, "",
                     {"arcs": int(n_net), "parts": len(parts), "components": int(n_comp),
                      # the secondary scores on the flow's own scale: its note replaces the graph's
                      "fine_secondary": by_max_flow and graph.scale.lexicographic, "secondary_note": own_note})


def _layers(st: Structure, k: np.ndarray, keep: np.ndarray, ka: np.ndarray,
            whole: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The intermediate groups of the kept arcs, ``-1`` where an arc has none (``None``: no arc
    has one): [employee, date] only for employees that can take several missions, and
    [mission, employer] only where the cap can bind (more candidate arcs than the cap)."""
    ed = st.ed if whole else st.ed[keep]
    lay = (k[ka] >= 2) & (ed >= 0)
    ed_grp = np.where(lay, ed, -1) if lay.any() else None
    mc = st.mc if whole else st.mc[keep]
    has_mc = mc >= 0
    mc_grp = None
    if has_mc.any():
        cnt = np.bincount(mc[has_mc], minlength=st.n_mc)
        binds = np.zeros(mc.size, bool)
        binds[has_mc] = cnt[mc[has_mc]] > st.mc_cap[mc[has_mc]]
        if binds.any():
            mc_grp = np.where(binds, mc, -1)
    return ed_grp, mc_grp


def _costs(graph: CandidateGraph, keep: np.ndarray, whole: bool) -> tuple[np.ndarray, bool, str]:
    """(cost of each kept arc, whether the network is solved as a max flow of min cost, and what
    that flow's own scale of the secondary scores cannot see: :func:`~koeeo_match.policy.unseen_terms`).

    Exact fast path: when every kept arc carries the same primary value (e.g. max_hours with
    missions of one duration), the primary objective is proportional to the flow value, so
    "max flow, then min cost of the secondary scores" is the lexicographic optimum; the costs
    are then the secondary scores alone, at full resolution (no primary multiplier needed).
    Otherwise each arc costs ``-score``."""
    score = graph.score if whole else graph.score[keep]
    sc = graph.scale
    prim = sc.primary(score) if sc.lexicographic else score
    by_max_flow = bool(prim.size) and prim.min() == prim.max() and prim[0] > 0
    if not by_max_flow:
        return -score, False, ""
    if not sc.lexicographic:  # one score for all arcs: any maximum flow (the graph's scale says what it lost)
        return np.zeros(keep.size, np.int64), True, ""
    w = graph.policy.weights()
    terms = {t: (graph.terms[t] if whole else graph.terms[t][keep]) for t, wt in w.items() if wt}
    sec = graph.policy.score(terms, "secondary")
    smax = float(np.abs(sec).max()) if sec.size else 0.0
    # the resolution of integer_scores (docs/policies.md, "Integer costs"): within 2**30 and the network's cost limit
    top = min(2**30, cost_limit(graph.n_employees, graph.n_missions, keep.size))
    sec_scale = float(2.0 ** np.floor(np.log2(top / smax))) if smax > 0 else 1.0
    note = unseen_terms(graph.policy, terms, [t for t in terms if t not in graph.policy.primary], sec_scale)
    return -np.round(sec * sec_scale).astype(np.int64), True, note


@dataclass(frozen=True)
class Network:
    """The flow network of one part: arcs ``tail -> head`` with capacities and unit costs, node
    0 the source and node 1 the sink (``supply`` units from one to the other); candidate arc
    ``i`` of the part is network arc ``first + i``.  ``employee[n]`` (``mission[n]``) is the
    part-local employee (mission) a node stands for, an employee's or [employee, date] node
    (a mission's or [mission, employer] node), ``-1`` for the others."""

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: int
    first: int
    n_candidates: int
    employee: np.ndarray
    mission: np.ndarray
    # per arc: 0 source -> employee, 1 -> [employee, date], 2 candidate, 3 [mission, employer] ->, 4 -> sink
    kind: np.ndarray


def network(ctx: tuple, part: Part) -> Network:
    """The network of one part (of the kept arcs).

    Nodes: 0 source, 1 sink, the part's employees, missions, [employee, date] and
    [mission, employer] groups.
    """
    ka, km_, k, ed_grp, mc_grp, mc_cap, seats, cost, _ = ctx
    idx = part.arcs
    emps, mis = part.employees, part.missions
    e_loc = np.searchsorted(emps, ka[idx])
    m_loc = np.searchsorted(mis, km_[idx])
    e0 = 2
    m0 = e0 + emps.size
    nxt = m0 + mis.size
    left = e0 + e_loc
    right = m0 + m_loc
    tails = [np.zeros(emps.size, np.int64)]
    heads = [e0 + np.arange(emps.size)]
    caps = [k[emps]]
    kinds = [np.zeros(emps.size, np.int8)]
    owner_e = [np.full(2, -1), np.arange(emps.size), np.full(mis.size, -1)]
    owner_m = [np.full(2, -1), np.full(emps.size, -1), np.arange(mis.size)]
    if ed_grp is not None and (g := ed_grp[idx]).max() >= 0:
        on = g >= 0
        grp, g_loc = dense(g[on], int(g.max()) + 1)
        first = first_of(g_loc, grp.size)
        left[on] = nxt + g_loc
        tails.append(e0 + e_loc[on][first])
        heads.append(nxt + np.arange(grp.size))
        caps.append(np.ones(grp.size, np.int64))
        kinds.append(np.full(grp.size, 1, np.int8))
        owner_e.append(e_loc[on][first])
        owner_m.append(np.full(grp.size, -1))
        nxt += grp.size
    n_before = sum(t.size for t in tails)
    tails.append(left)
    heads.append(right)
    caps.append(np.ones(idx.size, np.int64))
    kinds.append(np.full(idx.size, 2, np.int8))
    if mc_grp is not None and (g := mc_grp[idx]).max() >= 0:
        on = g >= 0
        grp, g_loc = dense(g[on], int(g.max()) + 1)
        first = first_of(g_loc, grp.size)
        right[on] = nxt + g_loc
        tails.append(nxt + np.arange(grp.size))
        heads.append(m0 + m_loc[on][first])
        caps.append(mc_cap[grp])
        kinds.append(np.full(grp.size, 3, np.int8))
        owner_e.append(np.full(grp.size, -1))
        owner_m.append(m_loc[on][first])
        nxt += grp.size
    tails.append(m0 + np.arange(mis.size))
    heads.append(np.ones(mis.size, np.int64))
    caps.append(seats[mis].astype(np.int64))
    kinds.append(np.full(mis.size, 4, np.int8))
    t, h, c = (np.concatenate(x).astype(np.int64, copy=False) for x in (tails, heads, caps))
    w = np.zeros(t.size, np.int64)
    w[n_before : n_before + idx.size] = cost[idx]
    return Network(t, h, c, w, int(caps[0].sum()), n_before, idx.size,
                   np.concatenate(owner_e).astype(np.int64), np.concatenate(owner_m).astype(np.int64),
                   np.concatenate(kinds))


def _solve_part(ctx: tuple, part: Part) -> tuple[np.ndarray, int]:
    """Build and solve the network of one part (of the kept arcs): (part-local positions of the
    arcs with flow, optimal cost).

    A zero-cost source -> sink bypass makes assigning optional, or, ``by_max_flow``, the network
    is solved as a maximum flow of least cost.
    """
    net = network(ctx, part)
    f, optimal_cost = _min_cost_flow(net.tail, net.head, net.capacity, net.cost, net.supply, ctx[-1],
                                     net.first, net.n_candidates)
    return np.flatnonzero(f > 0), optimal_cost


@dataclass(frozen=True)
class FlowJob:
    """One part's network as it travels to an executor (:mod:`koeeo_match.parallel`): only what
    the flow solver needs, nodes numbered within the part (``int32``), no index of the whole problem.
    :func:`run_flow_job` solves it to the flow on arcs ``first .. first + n - 1`` and the
    optimal cost, as :func:`_min_cost_flow` does here.

    >>> job = FlowJob(np.array([0, 2], np.int32), np.array([2, 1], np.int32), np.array([1, 1]),
    ...               np.array([-5, 0]), 1, False, 0, 1)
    >>> flows, cost = run_flow_job(job)
    >>> flows.tolist(), cost
    ([1], -5)
    """

    tail: np.ndarray
    head: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    supply: int
    by_max_flow: bool
    first: int
    n: int

    @classmethod
    def of(cls, net: Network, by_max_flow: bool, first: int, n: int) -> FlowJob:
        """The job of ``net``, reading back the flow on its arcs ``first .. first + n - 1``."""
        return cls(net.tail.astype(np.int32), net.head.astype(np.int32), net.capacity, net.cost, net.supply,
                   bool(by_max_flow), int(first), int(n))


def run_flow_job(job: FlowJob) -> tuple[np.ndarray, int]:
    """(flow on the job's arcs ``first .. first + n - 1``, optimal cost)."""
    return _min_cost_flow(job.tail.astype(np.int64, copy=False), job.head.astype(np.int64, copy=False), job.capacity,
                          job.cost, job.supply, job.by_max_flow, job.first, job.n)


def _pack_part(ctx: tuple, part: Part) -> tuple[FlowJob]:
    """:func:`_solve_part`'s task as a :class:`FlowJob` (built here, solved on the executor)."""
    net = network(ctx, part)
    return (FlowJob.of(net, ctx[-1], net.first, net.n_candidates),)


def _solved_positions(job: FlowJob) -> tuple[np.ndarray, int]:
    """:func:`_solve_part`'s result from its job."""
    f, optimal_cost = run_flow_job(job)
    return np.flatnonzero(f > 0), optimal_cost


_REMOTE = Remote(_solved_positions, _pack_part, "flow part")


def _min_cost_flow(t: np.ndarray, h: np.ndarray, c: np.ndarray, w: np.ndarray, supply: int, by_max_flow: bool,
                   first: int, n: int) -> tuple[np.ndarray, int]:
    """Solve the network (arcs ``t -> h``, capacities ``c``, costs ``w``; ``supply`` from node 0 to
    node 1; :func:`._mcf.min_cost_flow`): (flow on arcs ``first .. first + n - 1``, optimal cost)."""
    f, cost = _mcf.min_cost_flow(t, h, c, w, supply, by_max_flow)
    return f[first : first + n], cost


def hours_relaxation_bound(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> int | None:
    """An upper bound on the best total score, from a flow counted in hours.

    Each employee sends at most its entitlement in hours; an arc carries at
    most its mission's duration, each hour worth ``score / duration``; a
    mission takes at most ``seats x duration`` hours (``max_per_employer x
    duration`` per employer); an employee gives a date at most its longest
    mission that day.  Every feasible assignment is such a flow (arc ``a``
    carrying ``h_a`` hours), so the flow optimum bounds the problem's — and
    unlike the unit-capacity relaxation it knows that 7 h do not fit twice
    in one day's entitlement.  Team minimums, employer caps and budgets and
    forced pairs are left out (they only restrict).  Values per hour are
    rounded up, so the bound stays valid.  ``None`` if durations have no
    small common multiple.
    """
    keep = np.flatnonzero(graph.score > 0)
    if keep.size == 0:
        return 0
    if keep.size > PART_ARCS:  # the network splits exactly by component: solve parts apart (superlinear)
        parts = cut(graph.employee[keep], graph.mission[keep], graph.n_employees, graph.n_missions, PART_ARCS)
        if len(parts) > 1:  # part.arcs: positions in keep
            bounds = [hours_relaxation_bound(problem, graph.subset(keep[part.arcs])) for part in parts]
            known = [b for b in bounds if b is not None]
            return sum(known) if len(known) == len(bounds) else None
    st = st or structure(problem, graph)
    ka, kmis, h = graph.employee[keep], graph.mission[keep], st.arc_hours[keep]
    L = int(np.lcm.reduce(unique_sorted(h)))
    if L > 2**20:
        return None
    E, M = graph.n_employees, graph.n_missions
    per_hour, D = _per_hour(graph.score[keep], (L // h).astype(np.int64), 2 + E + M + 2 * keep.size)
    S, T, e0, m0 = 0, 1, 2, 2 + E
    nxt = m0 + M
    left = (e0 + ka).astype(np.int64)
    dated = st.ed[keep] >= 0
    ed_ids, n_ed = group_ids(st.ed[keep][dated])
    left[dated] = nxt + ed_ids
    ed0, nxt = nxt, nxt + n_ed
    right = (m0 + kmis).astype(np.int64)
    mc = st.mc[keep]
    has = mc >= 0
    mc_ids, n_mc = group_ids(mc[has])
    right[has] = nxt + mc_ids
    mc0, nxt = nxt, nxt + n_mc
    emps = present(ka, E)
    mis = present(kmis, M)
    ed_cap = np.zeros(n_ed, np.int64)
    np.maximum.at(ed_cap, ed_ids, h[dated])
    ed_first = first_of(ed_ids, n_ed)
    mc_first = first_of(mc_ids, n_mc)
    hours_m = np.round(problem.missions.hours * st.unit).astype(np.int64)
    supply = int(st.emp_hours[emps].sum())
    tails = np.concatenate([np.full(emps.size, S), e0 + ka[dated][ed_first], left, mc0 + np.arange(n_mc), m0 + mis])
    heads = np.concatenate([e0 + emps, ed0 + np.arange(n_ed), right, m0 + kmis[has][mc_first], np.full(mis.size, T)])
    caps = np.concatenate([st.emp_hours[emps], ed_cap, h, st.mc_cap[mc[has][mc_first]] * hours_m[kmis[has][mc_first]],
                           problem.missions.seats[mis].astype(np.int64) * hours_m[mis]])
    costs = np.concatenate([np.zeros(emps.size + n_ed, np.int64), -per_hour, np.zeros(n_mc + mis.size, np.int64)])
    try:  # the bypass S -> T is the flow solver's (assigning is optional)
        _, cost = _mcf.min_cost_flow(tails, heads, caps.astype(np.int64), costs, supply, False)
    except SolverError:
        return None
    return -((cost * D) // L)  # ceil(-cost * D / L)


def _per_hour(score: np.ndarray, q: np.ndarray, n_nodes: int) -> tuple[np.ndarray, int]:
    """(``ceil(score * q / D)`` per arc, ``D``): each arc's value per ``1 / L`` hour (``q = L / h``),
    divided by the smallest power of two ``D`` giving about 2**31 levels at most: ample for a
    bound, and a narrow cost range keeps the cost-scaling algorithm fast (values are rounded up,
    so the bound stays valid)."""
    limit = min((2**61) // n_nodes, 2**31)
    vmax = int(score.max()) * int(q.max())  # Python int: no overflow
    D = 1
    while vmax // D > limit:
        D *= 2
    # ceil(score * q / D), exactly, without overflow: (score // D) * q + ceil((score % D) * q / D)
    return (score // D) * q + (-(-((score % D) * q) // D)), D
