"""Arc groupings shared by the solvers: which arcs compete for which capacity.

Every capacity rule of DESIGN.md §4 is a group of arcs with a limit:
employee hours, (employee, date), mission seats, (mission, employer),
(employer, date) and employer hours budget.  Groups whose limit can never bind
are marked so that solvers skip them.  This module is solver-side only;
:mod:`koeeo_match.check` verifies solutions without it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .._arrays import find_sorted
from ..candidates import CandidateGraph
from ..errors import SolverError
from ..model import NO_DATE, Problem, hours_factor

__all__ = ["Structure", "structure", "group_ids", "hours_unit", "useful_arcs"]


def hours_unit(hours: np.ndarray) -> int:
    """Smallest factor making every duration an integer (hours are compared exactly;
    :func:`~koeeo_match.model.hours_factor`)."""
    f = hours_factor(hours)
    if f is None:
        raise SolverError(
            "Hours (of missions, entitlements or budgets) must be multiples of 1/1,000,000 h to be "
            "compared exactly; round them in the input."
        )
    return f


#: :func:`group_ids` ranks keys through a table of every possible key (no sort) when there are at most
#: _TABLE_PER_ARC per arc, plus _TABLE_SPAN (5 bytes each, briefly: at most 40 bytes per arc): at
#: Bretagne 30,000 (best of 5, load 4.6), (employer, date) of 1.5 M arcs in 0.020 s instead of 0.115 s,
#: (employee, date) in 0.053 s instead of 0.060 s.
_TABLE_PER_ARC, _TABLE_SPAN = 8, 1 << 16


def group_ids(*keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense group id per arc for the tuple of integer keys, in the keys' lexicographic order.

    >>> ids, n = group_ids(np.array([3, 1, 3, 1]), np.array([0, 5, 0, 2]))
    >>> ids.tolist(), n
    ([2, 1, 2, 0], 3)
    """
    if not keys or keys[0].size == 0:
        return np.zeros(0, np.int64), 0
    # one int64 key, lexicographic in the tuple (ranges multiplied while they fit), then ranked
    combined = np.zeros(keys[0].size, np.int64)
    span = 1
    for k in keys:
        k = k.astype(np.int64)
        lo = int(k.min())
        width = int(k.max()) - lo + 1
        if span * width >= 2**62:  # re-rank what we have so far to keep the key small
            _, combined = np.unique(combined, return_inverse=True)
            combined = combined.reshape(-1).astype(np.int64)
            span = int(combined.max()) + 1
        combined = combined * width + (k - lo)
        span *= width
    if span <= _TABLE_SPAN + _TABLE_PER_ARC * combined.size:  # rank through a table of every key: no sort
        present = np.zeros(span, bool)
        present[combined] = True
        rank = np.cumsum(present, dtype=np.int32 if span < 2**31 else np.int64)
        return rank[combined].astype(np.int64) - 1, int(rank[-1])
    _, inv = np.unique(combined, return_inverse=True)
    inv = inv.reshape(-1)
    return inv, int(inv.max()) + 1


@dataclass(frozen=True, eq=False)
class Structure:
    """Per-arc group ids (``-1``: the arc belongs to no such group) and limits.

    Integer hours are ``hours * unit``.
    """

    unit: int
    arc_hours: np.ndarray  # int64, scaled
    emp_hours: np.ndarray  # int64 per employee, scaled
    ed: np.ndarray  # (employee, date) group per arc, -1 undated
    n_ed: int
    mc: np.ndarray  # (mission, employer) group per arc, -1 = no cap applies
    n_mc: int
    mc_cap: np.ndarray
    cd: np.ndarray  # (employer, date) group per arc, -1 none
    n_cd: int
    cd_cap: np.ndarray
    budget_emp: np.ndarray  # employer of arc for budget, -1 none
    budget: np.ndarray  # int64 per employer (scaled); -1 none
    emp_binding_hours: np.ndarray  # bool per employee: hours can bind
    team: np.ndarray  # bool per mission: min_seats > 1
    staffed: np.ndarray  # bool per mission: a team started by pinned pairs, which must reach min_seats
    forced_arc: np.ndarray  # int64 arc index of each forced pair, -1 not eligible


_CACHE: weakref.WeakKeyDictionary[CandidateGraph, tuple] = weakref.WeakKeyDictionary()


def structure(problem: Problem, graph: CandidateGraph) -> Structure:
    """The groupings of ``graph``'s arcs (computed once per (problem, graph) pair)."""
    hit = _CACHE.get(graph)
    if hit is not None and hit[0]() is problem:
        return hit[1]
    st = _structure(problem, graph)
    _CACHE[graph] = (weakref.ref(problem), st)
    return st


def _structure(problem: Problem, graph: CandidateGraph) -> Structure:
    e, m, er = problem.employees, problem.missions, problem.employers
    ea, ma = graph.employee, graph.mission
    unit = hours_unit(np.concatenate([m.hours, e.hours, er.hours_budget[np.isfinite(er.hours_budget)]]))
    arc_hours = np.round(m.hours[ma] * unit).astype(np.int64)
    emp_hours = np.round(e.hours * unit).astype(np.int64)
    tot = np.bincount(ea, weights=arc_hours, minlength=len(e))
    emp_binding = tot > emp_hours

    date = m.date[ma]
    dated = date != NO_DATE
    ed = np.full(ea.size, -1, np.int64)
    ed[dated], n_ed = group_ids(ea[dated], date[dated])

    emp_of = e.employer[ea]
    mpe = m.max_per_employer[ma]
    has_mc = (mpe >= 0) & (emp_of >= 0)
    mc = np.full(ea.size, -1, np.int64)
    mc[has_mc], n_mc = group_ids(ma[has_mc], emp_of[has_mc])
    mc_cap = np.zeros(n_mc, np.int64)
    mc_cap[mc[has_mc]] = mpe[has_mc]
    taken = problem.taken
    if taken is not None and taken.staffed.size != len(m):
        raise SolverError("Problem.taken does not match the problem's missions: a part of a reduced problem "
                          "must be cut with koeeo_match.model.restrict, which renumbers it")
    if taken is not None and taken.mc_count.size and n_mc:  # places pinned pairs took
        mc_cap -= _taken_of(ma[has_mc], emp_of[has_mc], mc[has_mc], n_mc,
                            taken.mc_mission, taken.mc_employer, taken.mc_count)

    daily = er.daily_cap if len(er) else np.full(1, -1, np.int32)
    cap = np.where(emp_of >= 0, daily[np.maximum(emp_of, 0)], -1)
    has_cd = dated & (cap >= 0)
    cd = np.full(ea.size, -1, np.int64)
    cd[has_cd], n_cd = group_ids(emp_of[has_cd], date[has_cd])
    cd_cap = np.zeros(n_cd, np.int64)
    cd_cap[cd[has_cd]] = cap[has_cd]
    if taken is not None and taken.cd_count.size and n_cd:  # employees pinned pairs took away
        cd_cap -= _taken_of(emp_of[has_cd], date[has_cd], cd[has_cd], n_cd,
                            taken.cd_employer, taken.cd_date, taken.cd_count)
    np.maximum(mc_cap, 0, out=mc_cap)
    np.maximum(cd_cap, 0, out=cd_cap)

    fin = np.isfinite(er.hours_budget)
    budget = np.where(fin, np.round(np.where(fin, er.hours_budget, 0) * unit), -1).astype(np.int64)
    budget_emp = np.where(emp_of >= 0, emp_of, -1)
    budget_emp[budget_emp >= 0] = np.where(budget[budget_emp[budget_emp >= 0]] >= 0, budget_emp[budget_emp >= 0], -1)

    fz = problem.forced
    if graph.is_part and len(fz):  # forced pairs of employees that belong to other parts
        mine = np.diff(graph.ptr)[fz.employee] > 0
        fz = type(fz)(fz.employee[mine], fz.mission[mine], fz.score[mine])
    forced_arc = np.full(len(fz), -1, np.int64)
    if len(fz):
        key = ea.astype(np.int64) * len(m) + ma
        q = fz.employee.astype(np.int64) * len(m) + fz.mission
        forced_arc[:] = find_sorted(key, q)

    return Structure(
        unit=unit,
        arc_hours=arc_hours,
        emp_hours=emp_hours,
        ed=ed,
        n_ed=n_ed,
        mc=mc,
        n_mc=n_mc,
        mc_cap=mc_cap,
        cd=cd,
        n_cd=n_cd,
        cd_cap=cd_cap,
        budget_emp=budget_emp,
        budget=budget,
        emp_binding_hours=emp_binding,
        team=m.min_seats > 1,
        staffed=np.zeros(len(m), bool) if taken is None else taken.staffed,
        forced_arc=forced_arc,
    )


def _taken_of(a: np.ndarray, b: np.ndarray, group: np.ndarray, n_groups: int, ta: np.ndarray, tb: np.ndarray,
              count: np.ndarray) -> np.ndarray:
    """Per group (ids ``group`` of arcs keyed ``(a, b)``): the count taken of its key in the
    table ``(ta, tb, count)`` (0 where absent)."""
    lo = int(min(a.min(), ta.min()))
    span = int(max(b.max(), tb.max())) - int(min(b.min(), tb.min())) + 1
    b0 = int(min(b.min(), tb.min()))
    key = (a.astype(np.int64) - lo) * span + (b.astype(np.int64) - b0)
    tkey = (ta.astype(np.int64) - lo) * span + (tb.astype(np.int64) - b0)
    order = np.argsort(tkey, kind="stable")
    pos = find_sorted(tkey[order], key)
    out = np.zeros(n_groups, np.int64)
    hit = pos >= 0
    out[group[hit]] = count[order[pos[hit]]]
    return out


def useful_arcs(graph: CandidateGraph, st: Structure) -> np.ndarray:
    """Indices of the arcs a model needs, ascending: those of positive score, those of team
    missions and of started teams (they help a team reach its minimum) and the forced ones.  Any other arc never
    improves a solution: dropped from one, it leaves a feasible solution scoring as much or more."""
    useful = (graph.score > 0) | st.team[graph.mission] | st.staffed[graph.mission]
    useful[st.forced_arc[st.forced_arc >= 0]] = True
    return np.flatnonzero(useful)
