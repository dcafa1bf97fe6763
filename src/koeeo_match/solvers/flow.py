"""Exact min-cost flow (OR-Tools ``SimpleMinCostFlow``) on flow-expressible problems.

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

import numpy as np
from ortools.graph.python import min_cost_flow

from ..candidates import CandidateGraph
from ..errors import SolverError, UnsupportedError
from ..model import Problem
from ..solution import Status
from ._base import RawResult, SolveOptions, register
from ..decompose import components, pack
from ..parallel import default_workers, run_parts
from .._arrays import present, unique_sorted
from ._structure import Structure, group_ids, structure

__all__ = ["solve_flow", "flow_relaxation", "hours_relaxation_bound", "flow_obstacles", "employee_capacity"]


# Components are solved apart, never merged beyond this many arcs: OR-Tools' cost scaling is
# superlinear in the network size (national run, one part of 4.6 M arcs made of three regional
# components: 22.5 s solved together, 15.4 s as three networks), and small parts balance the pool.
PART_ARCS = 250_000

_CAPACITY: "weakref.WeakKeyDictionary[Structure, tuple]" = weakref.WeakKeyDictionary()


def employee_capacity(graph: CandidateGraph, st: Structure) -> tuple[np.ndarray, np.ndarray]:
    """Per employee: how many missions fit (``k``), and whether that count is exact.

    ``k`` is the largest count whose *smallest* durations fit the entitlement;
    it is exact when the ``k`` *largest* durations fit too.  Employees whose
    candidate missions all last the same are counted without sorting.
    """
    hit = _CAPACITY.get(st)
    if hit is not None and hit[0]() is graph:
        return hit[1]
    E = graph.n_employees
    ea, h = graph.employee, st.arc_hours
    deg = np.diff(graph.ptr)
    k = np.zeros(E, np.int64)
    exact = np.ones(E, bool)
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
            arcs = np.flatnonzero(np.isin(ea, mixed))
            sub_e, sub_h = ea[arcs], h[arcs]

            def fits(order: np.ndarray) -> np.ndarray:
                o_e = sub_e[order]
                cs = np.cumsum(sub_h[order])
                start = np.ones(o_e.size, bool)
                start[1:] = o_e[1:] != o_e[:-1]
                base = np.where(start, cs - sub_h[order], 0)
                seg = cs - np.maximum.accumulate(base)
                return np.bincount(o_e, weights=seg <= st.emp_hours[o_e], minlength=E).astype(np.int64)

            k_small = fits(np.lexsort((sub_h, sub_e)))
            k_large = fits(np.lexsort((-sub_h, sub_e)))
            k[mixed] = k_small[mixed]
            exact[mixed] = (k_small == k_large)[mixed]
    _CAPACITY[st] = (weakref.ref(graph), (k, exact))
    return k, exact


def flow_obstacles(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> list[str]:
    """Rules of this problem that a min-cost flow cannot honour exactly ([] if none)."""
    st = st or structure(problem, graph)
    ea, ma = graph.employee, graph.mission
    out = []
    if st.forced_arc.size:
        out.append(f"forced pairs ({st.forced_arc.size})")
    teams = present(ma[st.team[ma]], graph.n_missions)
    if teams.size:
        out.append(f"team minimum (min_seats > 1) on {teams.size} mission(s), e.g. {problem.missions.ids[teams[0]]!r}")
    _, exact = employee_capacity(graph, st)
    bad = np.flatnonzero(~exact)
    if bad.size:
        out.append(
            f"hours entitlement over missions of different durations for {bad.size} employee(s), "
            f"e.g. {problem.employees.ids[bad[0]]!r}"
        )
    has = st.cd >= 0
    if has.any():
        pairs = np.unique(np.stack([st.cd[has], ea[has]], 1), axis=0)  # distinct (group, employee)
        n_emp = np.bincount(pairs[:, 0], minlength=st.n_cd)
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
            out.append(f"employer hours budget that binds for {binding.size} employer(s), e.g. {problem.employers.ids[binding[0]]!r}")
    return out


@register("flow")
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


def flow_relaxation(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """The same network with the rules a flow cannot express left out: an upper bound.

    Team minimums, employer daily caps and budgets and forced pairs are dropped,
    and each employee may take ``k`` missions where ``k`` counts its shortest
    durations — every feasible assignment is a flow of this network, so its
    optimum bounds the problem's.  The selected arcs may break the dropped rules.
    """
    return _flow_network(problem, graph, options, structure(problem, graph))


def _flow_network(problem: Problem, graph: CandidateGraph, options: SolveOptions, st: Structure) -> RawResult:
    E, M = graph.n_employees, graph.n_missions
    ea, ma = graph.employee, graph.mission
    keep = np.flatnonzero(graph.score > 0)  # an arc of score <= 0 never improves the objective
    if keep.size == 0:
        return RawResult(np.zeros(0, np.int64), Status.OPTIMAL, 0.0, "", {"arcs": 0})
    ka, km_ = ea[keep], ma[keep]
    k, _ = employee_capacity(graph, st)

    # nodes: 0 source, 1 sink, 2.. employees, then missions, then [e,d], then [m,c]
    S, T = 0, 1
    e_node0 = 2
    m_node0 = e_node0 + E
    nxt = m_node0 + M
    multi = k[ka] >= 2
    left = (e_node0 + ka).astype(np.int64)
    lay = multi & (st.ed[keep] >= 0)
    ed_ids, n_ed = group_ids(st.ed[keep][lay])
    left[lay] = nxt + ed_ids
    ed_node0 = nxt
    nxt += n_ed
    right = (m_node0 + km_).astype(np.int64)
    mc = st.mc[keep]
    has_mc = mc >= 0
    if has_mc.any():
        # only where the cap can bind: more candidate arcs than the cap
        cnt = np.bincount(mc[has_mc], minlength=st.n_mc)
        binds = np.zeros(mc.size, bool)
        binds[has_mc] = cnt[mc[has_mc]] > st.mc_cap[mc[has_mc]]
        mc_ids, n_mc = group_ids(mc[binds])
        right[binds] = nxt + mc_ids
        mc_node0 = nxt
        nxt += n_mc
    else:
        binds = np.zeros(mc.size, bool)
        n_mc = 0

    tails, heads, caps, costs, owner = [], [], [], [], []

    def add(t, h, c, w=None, *, by_emp=None, by_mis=None):
        tails.append(np.asarray(t, np.int64))
        heads.append(np.asarray(h, np.int64))
        caps.append(np.asarray(c, np.int64))
        costs.append(np.zeros(len(tails[-1]), np.int64) if w is None else np.asarray(w, np.int64))
        owner.append(e_comp[by_emp] if by_emp is not None else m_comp[by_mis])

    # independent parts: connected components of the kept arcs
    n_comp, label = components(E, M, ka, km_)
    e_comp, m_comp = label[:E], label[E:]
    emps = present(ka, E)
    add(np.full(emps.size, S), e_node0 + emps, k[emps], by_emp=emps)
    if n_ed:
        # one arc employee -> [employee, date] per layered group
        first = np.unique(ed_ids, return_index=True)[1]
        add(e_node0 + ka[lay][first], ed_node0 + np.arange(n_ed), np.ones(n_ed), by_emp=ka[lay][first])
    if n_mc:
        first = np.unique(mc_ids, return_index=True)[1]
        add(mc_node0 + np.arange(n_mc), m_node0 + km_[binds][first], st.mc_cap[mc[binds][first]],
            by_mis=km_[binds][first])
    n_before = sum(len(t) for t in tails)
    add(left, right, np.ones(keep.size), -graph.score[keep], by_emp=ka)
    mis = present(km_, M)
    add(m_node0 + mis, np.full(mis.size, T), problem.missions.seats[mis], by_mis=mis)
    tails_a, heads_a, caps_a, costs_a = (np.concatenate(x) for x in (tails, heads, caps, costs))
    is_cand = np.zeros(tails_a.size, bool)
    is_cand[n_before : n_before + keep.size] = True
    # Exact fast path: when every kept arc carries the same primary value (e.g. max_hours with
    # missions of one duration), the primary objective is proportional to the flow value, so
    # "max flow, then min cost of the secondary scores" is the lexicographic optimum.
    sc = graph.scale
    prim = (graph.score[keep] + sc.multiplier // 2) // sc.multiplier if sc.lexicographic else graph.score[keep]
    by_max_flow = bool(prim.size) and prim.min() == prim.max() and prim[0] > 0
    if by_max_flow:
        # the secondary scores alone, at full resolution (no primary multiplier needed)
        w = graph.policy.weights()
        sec = graph.policy.score({t: graph.terms[t][keep] for t, wt in w.items() if wt}, "secondary")
        smax = float(np.abs(sec).max()) if sec.size else 0.0
        sec_scale = 2.0 ** np.floor(np.log2(2**20 / smax)) if smax > 0 else 1.0
        sec_int = np.round(sec * sec_scale).astype(np.int64) if sc.lexicographic else np.zeros(keep.size, np.int64)
        costs_a = costs_a.copy()
        costs_a[is_cand] = -sec_int
    comp = np.concatenate(owner)

    sizes = np.bincount(comp, minlength=n_comp)
    workers = options.workers or default_workers()
    part = pack(sizes, PART_ARCS)[comp]
    order = np.argsort(part, kind="stable")
    cuts = np.flatnonzero(np.diff(part[order])) + 1
    chunks = sorted(np.split(order, cuts), key=lambda c: -c.size)
    if options.progress:
        options.progress(f"flow: {tails_a.size:,} arcs in {len(chunks)} part(s) of {n_comp:,} components")
    tasks = [(tails_a[c], heads_a[c], caps_a[c], costs_a[c], by_max_flow) for c in chunks]
    results = run_parts(_solve_network, tasks, workers if tails_a.size > 500_000 else 1, [c.size for c in chunks])
    flows = np.zeros(tails_a.size, np.int64)
    total_cost = 0
    for c, (nz, f, cost) in zip(chunks, results):
        flows[c[nz]] = f
        total_cost += cost
    selected = keep[flows[n_before : n_before + keep.size] > 0]
    total = int(graph.score[selected].sum())
    if by_max_flow:
        sel_pos = np.flatnonzero(flows[n_before : n_before + keep.size] > 0)
        if total_cost != -int(sec_int[sel_pos].sum()):
            raise SolverError("OR-Tools max flow with min cost: the optimal cost and the selected arcs disagree.")
        total_cost = -total
    if -total_cost != total:
        raise SolverError("OR-Tools min-cost flow: the optimal cost and the selected arcs disagree.")
    return RawResult(selected, Status.OPTIMAL, total, "",
                     {"nodes": nxt, "arcs": int(tails_a.size), "parts": len(chunks), "components": int(n_comp),
                      "fine_secondary": by_max_flow})


def _solve_network(tails, heads, caps, costs, by_max_flow):
    """Solve one part (global node ids 0 = source, 1 = sink): the arcs with flow, their flows, the cost.

    Min-cost flow with a zero-cost source -> sink bypass (assigning is optional), or,
    ``by_max_flow``, OR-Tools' max flow of min cost.
    """
    # dense node numbers for this part (0 = source, 1 = sink), without a sort
    used = np.zeros(int(max(tails.max(), heads.max())) + 1, bool)
    used[[0, 1]] = True
    used[tails] = True
    used[heads] = True
    dense = np.cumsum(used) - 1
    t, h = dense[tails], dense[heads]
    supply = int(caps[tails == 0].sum())
    flow = min_cost_flow.SimpleMinCostFlow()
    if by_max_flow:
        flow.add_arcs_with_capacity_and_unit_cost(t, h, caps, costs)
    else:
        flow.add_arcs_with_capacity_and_unit_cost(
            np.append(t, 0), np.append(h, 1), np.append(caps, supply), np.append(costs, 0)
        )
    flow.set_nodes_supplies(np.array([0, 1], np.int64), np.array([supply, -supply], np.int64))
    status = flow.solve_max_flow_with_min_cost() if by_max_flow else flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"OR-Tools min-cost flow returned status {status!r} (expected OPTIMAL).")
    f = flow.flows(np.arange(tails.size, dtype=np.int64))
    nz = np.flatnonzero(f)  # most arcs carry no flow: return the others only (smaller to pass back)
    return nz, f[nz], int(flow.optimal_cost())


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
    st = st or structure(problem, graph)
    keep = np.flatnonzero(graph.score > 0)
    if keep.size == 0:
        return 0
    ka, kmis, h = graph.employee[keep], graph.mission[keep], st.arc_hours[keep]
    L = int(np.lcm.reduce(unique_sorted(h)))
    if L > 2**20:
        return None
    E, M = graph.n_employees, graph.n_missions
    score = graph.score[keep]
    q = (L // h).astype(np.int64)
    n_nodes = 2 + E + M + 2 * keep.size
    # about 2**31 levels per hour: ample for a bound, and a narrow cost range keeps the
    # cost-scaling algorithm fast (values are rounded up, so the bound stays valid)
    limit = min((2**61) // n_nodes, 2**31)
    vmax = int(score.max()) * int(q.max())  # Python int: no overflow
    D = 1
    while vmax // D > limit:
        D *= 2
    # ceil(score * q / D), exactly, without overflow: (score // D) * q + ceil((score % D) * q / D)
    per_hour = (score // D) * q + (-(-((score % D) * q) // D))
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
    ed_first = np.unique(ed_ids, return_index=True)[1]
    mc_first = np.unique(mc_ids, return_index=True)[1]
    hours_m = np.round(problem.missions.hours * st.unit).astype(np.int64)
    supply = int(st.emp_hours[emps].sum())
    tails = np.concatenate([np.full(emps.size, S), e0 + ka[dated][ed_first], left, mc0 + np.arange(n_mc),
                            m0 + mis, [S]])
    heads = np.concatenate([e0 + emps, ed0 + np.arange(n_ed), right, m0 + kmis[has][mc_first],
                            np.full(mis.size, T), [T]])
    caps = np.concatenate([st.emp_hours[emps], ed_cap, h, st.mc_cap[mc[has][mc_first]] * hours_m[kmis[has][mc_first]],
                           problem.missions.seats[mis].astype(np.int64) * hours_m[mis], [supply]])
    costs = np.concatenate([np.zeros(emps.size + n_ed, np.int64), -per_hour, np.zeros(n_mc + mis.size + 1, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps.astype(np.int64), costs)
    flow.set_nodes_supplies(np.array([S, T], np.int64), np.array([supply, -supply], np.int64))
    if flow.solve() != flow.OPTIMAL:
        return None
    return -((int(flow.optimal_cost()) * D) // L)  # ceil(-cost * D / L)
