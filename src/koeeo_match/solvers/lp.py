"""The linear-programming relaxation of the every-rule model (HiGHS, through SciPy).

Variables: ``x_a`` in [0, 1] per candidate arc (forced arcs in [1, 1]) and
``y_m`` in [0, 1] per team mission.  Constraints, as in the CP-SAT model and
only where they can bind: employee hours, at most one mission per (employee,
date), mission seats, ``max_per_employer``, employer daily caps and hour
budgets, and for a team mission ``min_seats * y <= sum x <= seats * y`` with
``x_a <= y`` for each of its arcs and ``sum x <= max_per_employer * y`` per
employer.  These links make the relaxation much tighter than a flow's: a team
whose volunteer takes a seat fully must run fully (on a 51,705-arc part of the
every-rule instance at 10 %, the LP is 0.86 % below the hours-flow bound;
without ``x_a <= y``, 0.01 %; on a 67,159-arc part, the ``max_per_employer``
link alone lowers it by 3.1 %).

The bound returned is rigorous whatever HiGHS' tolerances: it is recomputed
from the dual values by weak duality, ``b'l + sum_a max(0, c_a - (A'l)_a)``
(for ``l >= 0``), which bounds every feasible ``x``, with a small margin, then
rounded down (scores are integers).  For a lexicographic policy the LP
maximises the primary objective alone; the bound on the integer score is then
that bound (an integer: rounded down) times the multiplier, plus a bound on
the secondary scores (each employee's best positive ones, as many as its hours
allow missions).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .._arrays import dense, first_of
from ..candidates import CandidateGraph
from ..decompose import components, packed_parts
from ..model import Problem
from ._structure import Structure, group_ids, structure
from .flow import employee_capacity

__all__ = ["lp_relaxation", "LP_PART_ARCS"]

#: Above this many arcs the LP is solved per connected component of the arcs alone (packed into
#: chunks of about this size): dual simplex is superlinear (measured: 0.45 s for 51,705 arcs,
#: 13.4 s for 501,322).  An employer's daily cap or budget shared by two chunks then applies in
#: full to each, a relaxation, so the sum of the chunks' bounds stays a bound.
LP_PART_ARCS = 250_000


def lp_relaxation(problem: Problem, graph: CandidateGraph, st: Structure | None = None,
                  time_limit: float | None = None) -> tuple[int | None, np.ndarray | None]:
    """(upper bound on the best total integer score, LP value of each arc), or ``(None, None)``
    when HiGHS does not finish (time limit) or the relaxation is infeasible (forced pairs that
    cannot all hold: every-rule solvers then report it).

    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> bound, x = lp_relaxation(p, g)
    >>> g.scale.primary_bound(bound) >= km.solve(p, method="cpsat").objective  # hours
    True
    """
    if len(graph) > LP_PART_ARCS:
        label = components(graph.n_employees, graph.n_missions, graph.employee, graph.mission)[1]
        chunks = packed_parts(label[graph.employee], LP_PART_ARCS)
        if len(chunks) > 1:
            total, x_out = 0, np.zeros(len(graph))
            until = None if time_limit is None else time.monotonic() + time_limit
            for c in chunks:
                c = np.sort(c)
                b, x = _lp(problem, graph.subset(c), None, None if until is None else until - time.monotonic())
                if b is None:
                    return None, None
                total += b
                x_out[c] = x
            return total, x_out
    return _lp(problem, graph, st, time_limit)


def _secondary_max(graph: CandidateGraph, st: Structure, keep: np.ndarray, sec: np.ndarray) -> int:
    """No solution's secondary scores sum to more: per employee, its ``k`` best positive ones
    (``k``: the most missions its hours fit, :func:`~koeeo_match.solvers.flow.employee_capacity`)."""
    pos = sec > 0
    if not pos.any():
        return 0
    k = employee_capacity(graph, st)[0]
    e, v = graph.employee[keep][pos], sec[pos]
    order = np.lexsort((-v, e))
    e, v = e[order], v[order]
    rank = np.arange(e.size) - np.searchsorted(e, e, side="left")
    return int(v[rank < k[e]].sum())


def _lp(problem: Problem, graph: CandidateGraph, st: Structure | None,
        time_limit: float | None) -> tuple[int | None, np.ndarray | None]:
    st = st or structure(problem, graph)
    m = problem.missions
    ea, ma = graph.employee, graph.mission
    useful = (graph.score > 0) | st.team[ma]
    useful[st.forced_arc[st.forced_arc >= 0]] = True
    keep = np.flatnonzero(useful)
    K = keep.size
    x_out = np.zeros(len(graph))
    if K == 0:
        return 0, x_out
    score = graph.score[keep]
    sc = graph.scale
    lex = sc.lexicographic and sc.multiplier > 1
    if lex:  # the primary objective alone: an integer, and far faster for dual simplex than with
        # the tie-breaking secondary terms (501,322-arc part: 13 s against 96 s)
        prim = (score + sc.multiplier // 2) // sc.multiplier
        sec_max = _secondary_max(graph, st, keep, score - prim * sc.multiplier)
        unit, c = 1.0, prim.astype(np.float64)
    else:
        unit = float(max(np.abs(score).max(), 1))
        c = score / unit
    h = st.arc_hours[keep].astype(np.float64)
    rows, cols, vals, rhs = [], [], [], []
    n_rows = 0

    def cap(ids: np.ndarray, limits, weights: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
        """sum (weights) x <= limit per group of ``ids`` (>= 0), where the limit can bind; with
        ``y`` (the column of each arc's team variable), sum x <= limit * y instead."""
        nonlocal n_rows
        on = np.flatnonzero(ids >= 0)
        if on.size == 0:
            return
        gid, n = group_ids(ids[on])
        first = on[first_of(gid, n)]  # an arc of each group, to read its limit
        w = np.ones(on.size) if weights is None else weights[on]
        lim = np.asarray(limits(ids[first]), np.float64)
        binds = np.bincount(gid, weights=w, minlength=n) > lim
        sel = binds[gid]
        if not sel.any():
            return
        new = np.cumsum(binds) - 1
        n_new = int(binds.sum())
        rows.append(n_rows + new[gid[sel]])
        cols.append(on[sel])
        vals.append(w[sel])
        if y is None:
            rhs.append(lim[binds])
        else:
            rows.append(n_rows + np.arange(n_new))
            cols.append(y[first[binds]])
            vals.append(-lim[binds])
            rhs.append(np.zeros(n_new))
        n_rows += n_new

    team = st.team[ma[keep]]
    cap(ea[keep].astype(np.int64), lambda e: st.emp_hours[e], h)
    cap(st.ed[keep], lambda g: np.ones(g.size))
    cap(np.where(team, -1, ma[keep].astype(np.int64)), lambda mi: m.seats[mi])
    # max_per_employer: on a team mission, linked to its y below (at most cap x y)
    cap(np.where(team, -1, st.mc[keep]), lambda g: st.mc_cap[g])
    cap(st.cd[keep], lambda g: st.cd_cap[g])
    cap(st.budget_emp[keep], lambda b: st.budget[b], h)
    # team missions: one y each, x_a <= y, min_seats y <= sum x <= seats y
    ta = np.flatnonzero(team)
    tm, yi = dense(ma[keep][ta], graph.n_missions)
    Y = tm.size
    if Y:
        yi = yi.reshape(-1)
        ycol = K + np.arange(Y)
        for sign, coef in ((1.0, -m.seats[tm]), (-1.0, m.min_seats[tm])):
            rows += [n_rows + yi, n_rows + np.arange(Y)]
            cols += [ta, ycol]
            vals += [np.full(ta.size, sign), coef.astype(np.float64)]
            rhs.append(np.zeros(Y))
            n_rows += Y
        rows += [n_rows + np.arange(ta.size)] * 2
        cols += [ta, K + yi]
        vals += [np.ones(ta.size), -np.ones(ta.size)]
        rhs.append(np.zeros(ta.size))
        n_rows += ta.size
        # sum over (mission, employer) of x <= max_per_employer x y, where it can bind
        y_col = np.full(K, -1, np.int64)
        y_col[ta] = K + yi
        cap(np.where(team, st.mc[keep], -1), lambda g: st.mc_cap[g], y=y_col)
    n_var = K + Y
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_var)) \
        if n_rows else sp.csr_matrix((0, n_var))
    b = np.concatenate(rhs) if rhs else np.zeros(0)
    lo = np.zeros(n_var)
    pos = np.full(len(graph), -1, np.int64)
    pos[keep] = np.arange(K)
    lo[pos[st.forced_arc[st.forced_arc >= 0]]] = 1.0
    obj = np.concatenate([c, np.zeros(Y)])
    options = {"presolve": True}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.01)
    res = linprog(-obj, A_ub=A if n_rows else None, b_ub=b if n_rows else None,
                  bounds=np.stack([lo, np.ones(n_var)], 1), method="highs-ds", options=options)
    if res.status != 0 or res.x is None:
        return None, None
    # weak duality with the multipliers HiGHS returns (clipped to the valid sign)
    lam = np.maximum(-res.ineqlin.marginals, 0.0) if n_rows else np.zeros(0)
    reduced = obj - (A.T @ lam if n_rows else 0.0)
    dual = float(b @ lam) + float(np.where(reduced > 0, reduced, reduced * lo).sum())
    dual += 1e-9 * abs(dual) + 1e-6
    x_out[keep] = np.clip(res.x[:K], 0.0, 1.0)
    if lex:  # primary totals are integers
        return math.floor(dual) * sc.multiplier + sec_max, x_out
    return math.floor(dual * unit), x_out  # so are scores (the margin above covers the product's rounding)
