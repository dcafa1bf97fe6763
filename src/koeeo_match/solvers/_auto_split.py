"""``auto``'s parts: cutting an instance into independent parts, and sharing the caps they share.

Employees and missions are joined by their arcs, and employees to their
employer when the employer has a daily cap or an hour budget: the connected
components are independent.  A component too large for one search (an employer
with staff in many départements joins them) is cut into the components of its
arcs alone; each cap and budget its parts then share is apportioned between
them (resource-directive decomposition, :func:`apportion`), and each part
keeps its share (:func:`restricted`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._arrays import dense, first_of
from ..candidates import CandidateGraph
from ..decompose import Part, components, cut
from ..model import Problem
from ._structure import group_ids, structure

__all__ = ["split", "apportion", "restricted", "coupled"]


def split(problem: Problem, graph: CandidateGraph, split_arcs: int, part_arcs: int) -> list[Part]:
    """Parts of ``graph``, largest first: coupled components, those above ``split_arcs`` arcs cut
    into the components of their arcs alone, packed into parts of about ``part_arcs`` arcs.

    A component holding a forced pair stays whole: a share of a cap could leave its part too
    little room for the pair (the problem would be wrongly found infeasible).
    """
    E, M = graph.n_employees, graph.n_missions
    er = problem.employers
    emp_of = problem.employees.employer
    linked = np.flatnonzero(coupled(problem, emp_of))
    # employer c becomes right-hand node M + c
    left = np.concatenate([graph.employee, linked])
    right = np.concatenate([graph.mission.astype(np.int64), M + emp_of[linked].astype(np.int64)])
    comp = components(E, M + len(er), left, right)[1][graph.employee]
    big = np.bincount(comp) > split_arcs
    fa = structure(problem, graph).forced_arc
    big[comp[fa[fa >= 0]]] = False
    if big.any():
        on = np.flatnonzero(big[comp])
        inner = components(E, M, graph.employee[on], graph.mission[on])[1][graph.employee[on]]
        comp = comp.astype(np.int64)
        comp[on] = int(comp.max()) + 1 + inner
        comp = dense(comp, int(comp.max()) + 1)[1]
    return cut(graph.employee, graph.mission, E, M, part_arcs, label=comp)


def apportion(problem: Problem, graph: CandidateGraph, parts: list[Part],
              x: np.ndarray | None = None) -> list[tuple | None]:
    """Per part: ``None``, or ``(employers, daily_cap, hours_budget)`` giving that part its share
    of each employer's cap and budget that can bind and that several parts share (resource-
    directive decomposition): shares sum to the employer's own, so parts that each keep their
    share keep the employer's.  Shares follow, by largest remainders, the LP values ``x`` (per
    arc): a daily cap in proportion to each part's busiest date for that employer, a budget to
    its LP hours; without ``x``, to the employer's candidate employees and their hours.
    """
    out: list[tuple | None] = [None] * len(parts)
    er = problem.employers
    if len(parts) < 2 or len(er) == 0:
        return out
    part_arc = np.empty(len(graph), np.int64)
    for i, part in enumerate(parts):
        part_arc[part.arcs] = i
    arc_emp = problem.employees.employer[graph.employee]
    on = np.flatnonzero(coupled(problem, arc_emp))
    if on.size == 0:
        return out
    st = structure(problem, graph)
    c, pi = arc_emp[on].astype(np.int64), part_arc[on]
    pair, n_pair = group_ids(c, pi)  # (employer, part) pairs
    first = first_of(pair, n_pair)
    pc, pp = c[first], pi[first]
    shared = np.bincount(pc, minlength=len(er))[pc] > 1
    if not shared.any():
        return out
    # candidate employees and their hours per pair (an employee's arcs all lie in one part)
    new_emp = np.ones(on.size, bool)
    new_emp[1:] = graph.employee[on][1:] != graph.employee[on][:-1]
    n_emp = np.bincount(pair, weights=new_emp, minlength=n_pair)
    emp_h = np.bincount(pair, weights=new_emp * st.emp_hours[graph.employee[on]], minlength=n_pair)
    w_cap, w_bud = (n_emp, emp_h) if x is None else _lp_weights(st, on, pi, pair, n_pair, x, n_emp, emp_h)
    n_tot = np.bincount(pc, weights=n_emp, minlength=len(er))
    h_tot = np.bincount(pc, weights=emp_h, minlength=len(er))
    budget = np.where(np.isfinite(er.hours_budget), np.round(np.nan_to_num(er.hours_budget, posinf=0) * st.unit), -1)
    cap_binds = (er.daily_cap >= 0) & (n_tot > er.daily_cap)
    bud_binds = (budget >= 0) & (h_tot > budget)
    dc = _largest_remainder(pc, w_cap, er.daily_cap.astype(np.int64))
    hb = _largest_remainder(pc, w_bud, budget.astype(np.int64))
    for i in np.unique(pp[shared & (cap_binds[pc] | bud_binds[pc])]).tolist():
        k = np.flatnonzero((pp == i) & shared)
        cap = np.where(cap_binds[pc[k]], dc[k], er.daily_cap[pc[k]])
        bud = np.where(bud_binds[pc[k]], hb[k] / st.unit, er.hours_budget[pc[k]])
        out[i] = (pc[k], cap.astype(np.int32), bud)
    return out


def _lp_weights(st, on: np.ndarray, pi: np.ndarray, pair: np.ndarray, n_pair: int, x: np.ndarray,
                n_emp: np.ndarray, emp_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weight of each (employer, part) pair in its daily cap, in its budget) from the LP values
    ``x``: the part's busiest date for the employer, and its LP hours."""
    xo = x[on].astype(np.float64)
    w_bud = np.bincount(pair, weights=xo * st.arc_hours[on], minlength=n_pair)
    w_cap = np.zeros(n_pair)
    dated = st.cd[on] >= 0
    if dated.any():
        day, n_day = group_ids(st.cd[on][dated], pi[dated])  # (employer-date, part)
        use = np.bincount(day, weights=xo[dated], minlength=n_day)
        day_pair = np.zeros(n_day, np.int64)
        day_pair[day] = pair[dated]
        np.maximum.at(w_cap, day_pair, use)
    # a tie-breaker in proportion to the candidates, for parts the LP leaves unused
    return w_cap + 1e-6 * n_emp, w_bud + 1e-6 * emp_h


def _largest_remainder(owner: np.ndarray, weight: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Integer shares of ``total[owner]`` in proportion to ``weight``, summing to the total exactly
    (largest remainders first; ties by position)."""
    w_sum = np.bincount(owner, weights=weight, minlength=total.size)
    quota = np.where(w_sum[owner] > 0, np.maximum(total[owner], 0) * weight / np.maximum(w_sum[owner], 1e-300), 0.0)
    share = np.floor(quota).astype(np.int64)
    left = np.maximum(total, 0) - np.bincount(owner, weights=share, minlength=total.size).astype(np.int64)
    order = np.lexsort((np.arange(owner.size), -(quota - share), owner))
    o = owner[order]
    start = np.searchsorted(o, o, side="left")
    rank = np.arange(o.size) - start
    share[order[rank < left[o]]] += 1
    return share


def restricted(problem: Problem, caps: tuple | None) -> Problem:
    """The problem with a part's share of the shared caps and budgets (see :func:`apportion`)."""
    if caps is None:
        return problem
    idx, cap, bud = caps
    er = problem.employers
    dc, hb = er.daily_cap.copy(), er.hours_budget.copy()
    dc[idx], hb[idx] = cap, bud
    return replace(problem, employers=replace(er, daily_cap=dc, hours_budget=hb))


def coupled(problem: Problem, employer: np.ndarray) -> np.ndarray:
    """For each entry of ``employer`` (an employer index, -1 for none): whether that employer has
    a daily cap or an hours budget, which couples its staff."""
    er = problem.employers
    if len(er) == 0:
        return np.zeros(employer.size, bool)
    coupling = (er.daily_cap >= 0) | np.isfinite(er.hours_budget)
    return (employer >= 0) & coupling[np.maximum(employer, 0)]
