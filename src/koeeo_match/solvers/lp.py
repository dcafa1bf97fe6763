"""The linear-programming relaxation of the every-rule model (HiGHS, through SciPy).

Variables: ``x_a`` in [0, 1] per candidate arc (forced arcs in [1, 1]) and
``y_m`` in [0, 1] per team mission.  Constraints, as in the CP-SAT model and
only where they can bind: employee hours, at most one mission per (employee,
date), mission seats, ``max_per_employer``, employer daily caps and hour
budgets, and for a team mission ``min_seats * y <= sum x <= seats * y`` with
``x_a <= y`` for each of its arcs and ``sum x <= max_per_employer * y`` per
employer.  These links make the relaxation much tighter than a flow's: a team
whose volunteer takes a seat fully must run fully (docs/solvers.md).

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

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .._arrays import dense, first_of
from ..candidates import CandidateGraph
from ..decompose import cut
from ..model import Problem
from ..parallel import run_stoppable
from ._auto_clock import INTERRUPTED, LP_SETUP_SECONDS_PER_ARC, estimate, left
from ._structure import Structure, group_ids, structure, useful_arcs
from .flow import employee_capacity

__all__ = ["lp_relaxation", "lp_prices", "LPPrices", "LP_PART_ARCS", "rule_rows", "secondary_max", "quick_bound",
           "lp_within", "LP_SMALL_SETUP", "LP_SMALL_HIGHS"]

log = logging.getLogger(__name__)

#: Above this many arcs the LP is solved per connected component of the arcs alone (packed into
#: chunks of about this size): dual simplex is superlinear.  An employer's daily cap or budget
#: shared by two chunks then applies in full to each, a relaxation, so the sum of the chunks'
#: bounds stays a bound.
LP_PART_ARCS = 250_000
#: Under a time limit, an LP whose setup (:data:`~._auto_clock.LP_SETUP_SECONDS_PER_ARC`) is
#: estimated at most LP_SMALL_SETUP seconds runs whatever the time left, HiGHS getting at least
#: LP_SMALL_HIGHS seconds (a small part's bound is worth a fraction of a second); a larger one runs
#: only when at least twice its setup is left, HiGHS getting the rest (:func:`lp_within`).
LP_SMALL_SETUP = 0.02
LP_SMALL_HIGHS = 0.2
#: SciPy's HiGHS runs in a process of its own (an LP of at least LP_PROCESS_COLUMNS columns; a smaller
#: one, a fraction of a second, in a thread); past its time limit plus max(LP_GRACE, LP_GRACE_SHARE x
#: limit) seconds, or on Ctrl-C, the LP is stopped (no bound): its process killed, or its thread abandoned.
LP_GRACE, LP_GRACE_SHARE = 0.25, 0.1
LP_PROCESS_COLUMNS = 50_000


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
        parts = cut(graph.employee, graph.mission, graph.n_employees, graph.n_missions, LP_PART_ARCS)
        if len(parts) > 1:
            total, x_out = 0, np.zeros(len(graph))
            until = None if time_limit is None else time.monotonic() + time_limit
            for part in parts:
                b, x = _lp(problem, graph.subset(part.arcs), None,
                           None if until is None else until - time.monotonic())
                if b is None:
                    return None, None
                total += b
                x_out[part.arcs] = x
            return total, x_out
    return _lp(problem, graph, st, time_limit)


def lp_within(problem: Problem, graph: CandidateGraph, st: Structure | None,
              deadline: float | None) -> tuple[int | None, np.ndarray | None]:
    """:func:`lp_relaxation` by ``deadline`` (``time.monotonic()``; ``None``: no limit), or
    ``(None, None)`` when it would not end by then (not started: its setup cannot be stopped) or
    did not (HiGHS' time limit: what is left less the setup), or after Ctrl-C.  Small LPs run
    whatever the time left (:data:`LP_SMALL_SETUP`).

    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> lp_within(p, g, None, time.monotonic())[0] == lp_relaxation(p, g)[0]  # small: it runs
    True
    """
    if INTERRUPTED.is_set():  # Ctrl-C: no LP starts
        return None, None
    rest = left(deadline)
    if rest is None:
        return lp_relaxation(problem, graph, st)
    setup = estimate(LP_SETUP_SECONDS_PER_ARC, len(graph))
    if setup <= LP_SMALL_SETUP:
        return lp_relaxation(problem, graph, st, max(rest - setup, LP_SMALL_HIGHS))
    if rest < 2 * setup:
        return None, None
    return lp_relaxation(problem, graph, st, rest - setup)


def quick_bound(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> int:
    """An upper bound on the best total integer score, in one pass over the arcs (no solve): the
    smaller of two sums, each employee's best positive score times the most missions it can take
    (its entitlement over its shortest candidate mission, at most its arcs), and each mission's
    times its seats (at most its arcs).  Far looser than the LP's; the bound of a solve whose
    time left no room for the LP.

    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> quick_bound(p, g) >= lp_relaxation(p, g)[0]
    True
    """
    if len(graph) == 0:
        return 0
    st = st or structure(problem, graph)
    pos = np.maximum(graph.score, 0)
    count_e = np.diff(graph.ptr)
    has = np.flatnonzero(count_e > 0)
    starts = graph.ptr[has]  # arcs are grouped by employee (CSR)
    best_e = np.maximum.reduceat(pos, starts)
    # at most its entitlement over its shortest candidate: no sort (employee_capacity's count,
    # exact with mixed durations, sorts every arc: 1 s at 2 M arcs)
    k = st.emp_hours[has] // np.maximum(np.minimum.reduceat(st.arc_hours, starts), 1)
    by_employee = _exact_sum(best_e * np.minimum(k, count_e[has]))
    best_m = np.zeros(graph.n_missions, np.int64)
    np.maximum.at(best_m, graph.mission, pos)
    count_m = np.bincount(graph.mission, minlength=graph.n_missions)
    seats = np.maximum(problem.missions.seats.astype(np.int64), 0)
    by_mission = _exact_sum(best_m * np.minimum(seats, count_m))
    return min(by_employee, by_mission)


def _exact_sum(a: np.ndarray) -> int:
    """The exact sum of non-negative int64 values (no int64 overflow: high and low words apart)."""
    a = a.astype(np.int64)
    return (int((a >> 32).sum()) << 32) + int((a & 0xFFFFFFFF).sum())


def rule_rows(problem: Problem, graph: CandidateGraph, st: Structure, keep: np.ndarray
              ) -> tuple[sp.csr_matrix, np.ndarray, int]:
    """``(A, b, n_y)``: every rule as ``A v <= b`` over the kept arcs ``keep`` (columns
    ``0 .. K - 1``) and one team variable per team mission (the ``n_y`` columns from ``K``), only
    the rows that can bind, with the team links of the module docstring.  With ``v`` in [0, 1]
    it is the LP relaxation; with ``v`` in {0, 1} it is the every-rule model itself
    (:mod:`~koeeo_match.solvers.mip`).  ``A``: CSR, indices sorted, no duplicates.

    >>> import koeeo_match as km
    >>> from koeeo_match.solvers._structure import structure, useful_arcs
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> st = structure(p, g)
    >>> A, b, n_y = rule_rows(p, g, st, useful_arcs(g, st))
    >>> A.shape[1] == len(useful_arcs(g, st)) + n_y, A.shape[0] == b.size
    (True, True)
    """
    rows = _Rows()
    n_y = _add_constraints(rows, problem, graph, st, keep)
    assert n_y is not None  # no stop: every row
    A, b = rows.matrix(keep.size + n_y)
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    return A, b, n_y


def secondary_max(graph: CandidateGraph, st: Structure, keep: np.ndarray, sec: np.ndarray) -> int:
    """An upper bound on any solution's total secondary score (``sec``, per kept arc)."""
    return _secondary_max(graph, st, keep, sec)


#: :func:`_secondary_max` takes each employee's best arcs a round at a time up to this many, sorts beyond.
_TOP_ROUNDS = 8


def _secondary_max(graph: CandidateGraph, st: Structure, keep: np.ndarray, sec: np.ndarray) -> int:
    """No solution's secondary scores sum to more: per employee, its ``k`` best positive ones
    (``k``: the most missions its hours fit, :func:`~koeeo_match.solvers.flow.employee_capacity`)."""
    pos = sec > 0
    if not pos.any():
        return 0
    return _top_sum(graph.employee[keep][pos], sec[pos], employee_capacity(graph, st)[0])


def _top_sum(e: np.ndarray, v: np.ndarray, k: np.ndarray) -> int:
    """The sum over employees of their ``k[e]`` largest values ``v`` (all positive; ``e[i]`` the
    employee of ``v[i]``).

    >>> _top_sum(np.array([0, 0, 0, 1]), np.array([5, 9, 9, 4]), np.array([2, 1]))
    22
    """
    new = np.r_[True, e[1:] != e[:-1]]
    starts = np.flatnonzero(new)
    ke = k[e[starts]]
    if (e[1:] >= e[:-1]).all() and int(ke.max()) <= _TOP_ROUNDS:  # the graph's order: by employee
        # each employee's k best, a segment maximum at a time (a sort of 5 M arcs took 2 s, these 0.3 s)
        seg, w, total = np.cumsum(new) - 1, v.copy(), 0
        for r in range(int(ke.max())):
            best = np.maximum.reduceat(w, starts)
            live = (r < ke) & (best > 0)
            total += int(best[live].sum())
            first = np.minimum.reduceat(np.where((w == best[seg]) & live[seg], np.arange(w.size), w.size), starts)
            w[first[first < w.size]] = 0  # taken (every score left is positive)
        return total
    order = np.lexsort((-v, e))
    e, v = e[order], v[order]
    rank = np.arange(e.size) - np.searchsorted(e, e, side="left")
    return int(v[rank < k[e]].sum())


def _lp(problem: Problem, graph: CandidateGraph, st: Structure | None,
        time_limit: float | None) -> tuple[int | None, np.ndarray | None]:
    st = st or structure(problem, graph)
    keep = useful_arcs(graph, st)
    x_out = np.zeros(len(graph))
    if keep.size == 0:
        return 0, x_out
    solved = _solve_kept(problem, graph, st, keep, time_limit)
    if solved is None:
        return None, None
    x, dual, _, _, unit, sec_max = solved
    x_out[keep] = np.clip(x[: keep.size], 0.0, 1.0)
    if sec_max is not None:  # primary totals are integers
        return math.floor(dual) * graph.scale.multiplier + sec_max, x_out
    return math.floor(dual * unit), x_out  # so are scores (the margin in _solve covers the product's rounding)


def _solve_kept(problem: Problem, graph: CandidateGraph, st: Structure, keep: np.ndarray, time_limit: float | None
                ) -> tuple[np.ndarray, float, np.ndarray, _Rows, float, int | None] | None:
    """The LP of the kept arcs solved: (x, rigorous dual bound, multipliers, the rows, the unit of
    the costs, the bound on secondary totals or None: :func:`_objective`), or None when HiGHS does
    not finish or finds it infeasible."""
    # Ctrl-C is asked between the set-up's steps (each about a second at 5 M arcs), none of which stops
    c, unit, sec_max = _objective(graph, st, keep)
    rows = _Rows()
    n_y = None if INTERRUPTED.is_set() else _add_constraints(rows, problem, graph, st, keep, INTERRUPTED.is_set)
    if n_y is None:
        return None
    A, b = rows.matrix(keep.size + n_y)
    if INTERRUPTED.is_set():
        return None
    lo = np.zeros(keep.size + n_y)
    lo[np.searchsorted(keep, st.forced_arc[st.forced_arc >= 0])] = 1.0  # forced arcs: x = 1
    x, dual, lam = _solve(np.concatenate([c, np.zeros(n_y)]), A, b, lo, time_limit)
    if x is None:
        return None
    return x, dual, lam, rows, unit, sec_max


@dataclass(frozen=True)
class LPPrices:
    """The optimal multipliers of an LP relaxation (:func:`lp_prices`), read as the prices an arc
    must beat.

    The LP maximises ``c x`` where ``c`` is the arcs' primary integer score (``primary``) or their
    integer score over ``unit``.  ``dual`` is a rigorous bound on it over the arcs held.  An arc
    ``(e, m)`` the LP does not hold would have the reduced cost ``c - h_m hours[e] - mission[m] -
    (rows dropped here)``, where ``h_m`` is the mission's hours in units of ``hours_unit`` and the
    rows dropped (one mission per date, ``max_per_employer``, employer caps and budgets, the team
    links) have non-negative multipliers: ``c - h_m hours[e] - mission[m]`` bounds it above.
    """

    dual: float
    unit: float
    primary: bool
    hours: np.ndarray  # per employee: its hours row's multiplier (0 without a row)
    hours_unit: int
    mission: np.ndarray  # per mission: seats row + team maximum - team minimum multipliers


def lp_prices(problem: Problem, graph: CandidateGraph, time_limit: float | None = None) -> LPPrices | None:
    """The LP relaxation of ``graph`` solved whole (no parts), with its multipliers as prices
    (:class:`LPPrices`), or None when HiGHS does not finish or finds it infeasible.

    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0, rules="all")
    >>> g = km.build_candidates(p, "max_hours")
    >>> pr = lp_prices(p, g)
    >>> math.floor(pr.dual) * g.scale.multiplier >= lp_relaxation(p, g)[0] - g.scale.multiplier
    True
    """
    E, M = problem.n_employees, problem.n_missions
    st = structure(problem, graph)
    keep = useful_arcs(graph, st)
    if keep.size == 0:
        return LPPrices(0.0, 1.0, graph.scale.lexicographic, np.zeros(E), st.unit, np.zeros(M))
    solved = _solve_kept(problem, graph, st, keep, time_limit)
    if solved is None:
        return None
    _, dual, lam, rows, unit, sec_max = solved
    hours, mission = np.zeros(E), np.zeros(M)
    for tag, start, owner in rows.tags:
        lam_t = lam[start : start + owner.size]
        if tag == "hours":
            hours[owner] = lam_t
        elif tag in ("seats", "team_max"):
            np.add.at(mission, owner, lam_t)
        elif tag == "team_min":
            np.subtract.at(mission, owner, lam_t)
    return LPPrices(dual, unit, sec_max is not None, hours, st.unit, mission)


def _objective(graph: CandidateGraph, st: Structure, keep: np.ndarray) -> tuple[np.ndarray, float, int | None]:
    """(LP cost per kept arc, the unit of those costs, the bound on secondary totals or ``None``).

    For a lexicographic policy, the primary objective alone (an integer, and far faster for dual
    simplex than with the tie-breaking secondary terms), with :func:`_secondary_max` for the
    secondary ones; otherwise the scores divided by the largest."""
    score = graph.score[keep]
    sc = graph.scale
    if sc.lexicographic and sc.multiplier > 1:
        prim = sc.primary(score)
        return prim.astype(np.float64), 1.0, _secondary_max(graph, st, keep, score - prim * sc.multiplier)
    unit = float(max(np.abs(score).max(), 1))
    return score / unit, unit, None


class _Rows:
    """The rows of ``A x <= b`` in coordinate form, built a group of constraints at a time."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.n = 0
        #: (tag, first row, owner of each row): the rows a group of constraints added, with the
        #: employee, mission, ... each one is about (read by :func:`lp_prices`)
        self.tags: list[tuple[str, int, np.ndarray]] = []

    def add(self, rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray], rhs: np.ndarray,
            tag: str = "", owner: np.ndarray | None = None) -> None:
        """Append ``rhs.size`` rows; ``rows`` count from 0 for the first of them; ``tag`` and
        ``owner`` (one per row) name what they are about."""
        if tag and owner is not None:
            self.tags.append((tag, self.n, np.asarray(owner, np.int64)))
        self.rows += [self.n + r for r in rows]
        self.cols += cols
        self.vals += vals
        self.rhs.append(rhs)
        self.n += rhs.size

    def cap(self, ids: np.ndarray, limits, weights: np.ndarray | None = None, y: np.ndarray | None = None,
            tag: str = "") -> None:
        """sum (weights) x <= limit per group of ``ids`` (>= 0), where the limit can bind; with
        ``y`` (the column of each arc's team variable), sum x <= limit * y instead.  ``tag``:
        the rows are recorded with their group's id (:attr:`tags`)."""
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
        owner = ids[first[binds]]
        if y is None:
            self.add([new[gid[sel]]], [on[sel]], [w[sel]], lim[binds], tag, owner)
        else:
            self.add([new[gid[sel]], np.arange(n_new)], [on[sel], y[first[binds]]], [w[sel], -lim[binds]],
                     np.zeros(n_new), tag, owner)

    def matrix(self, n_var: int) -> tuple[sp.csr_matrix, np.ndarray]:
        """(A, b)."""
        if not self.n:
            return sp.csr_matrix((0, n_var)), np.zeros(0)
        A = sp.csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                          shape=(self.n, n_var))
        return A, np.concatenate(self.rhs)


def _add_constraints(rows: _Rows, problem: Problem, graph: CandidateGraph, st: Structure, keep: np.ndarray,
                     stop: Callable[[], bool] | None = None) -> int | None:
    """Every rule's rows over the kept arcs (columns ``0 .. K - 1``) and one team variable per team
    mission (columns from ``K``); returns the number of team variables, or None when ``stop``
    (asked between groups of rows) answered True: ``rows`` is then incomplete."""
    m = problem.missions
    ea, ma = graph.employee, graph.mission
    K = keep.size
    h = st.arc_hours[keep].astype(np.float64)
    team = st.team[ma[keep]]
    caps = [
        lambda: rows.cap(ea[keep].astype(np.int64), lambda e: st.emp_hours[e], h, tag="hours"),
        lambda: rows.cap(st.ed[keep], lambda g: np.ones(g.size)),
        lambda: rows.cap(np.where(team, -1, ma[keep].astype(np.int64)), lambda mi: m.seats[mi], tag="seats"),
        # max_per_employer: on a team mission, linked to its y below (at most cap x y)
        lambda: rows.cap(np.where(team, -1, st.mc[keep]), lambda g: st.mc_cap[g]),
        lambda: rows.cap(st.cd[keep], lambda g: st.cd_cap[g]),
        lambda: rows.cap(st.budget_emp[keep], lambda b: st.budget[b], h),
    ]
    for add in caps:
        if stop is not None and stop():
            return None
        add()
    # team missions: one y each, x_a <= y, min_seats y <= sum x <= seats y
    ta = np.flatnonzero(team)
    tm, yi = dense(ma[keep][ta], graph.n_missions)
    Y = tm.size
    if Y:
        yi = yi.reshape(-1)
        ycol = K + np.arange(Y)
        for sign, coef, tag in ((1.0, -m.seats[tm], "team_max"), (-1.0, m.min_seats[tm], "team_min")):
            rows.add([yi, np.arange(Y)], [ta, ycol], [np.full(ta.size, sign), coef.astype(np.float64)], np.zeros(Y),
                     tag, tm)
        rows.add([np.arange(ta.size)] * 2, [ta, K + yi], [np.ones(ta.size), -np.ones(ta.size)], np.zeros(ta.size))
        # sum over (mission, employer) of x <= max_per_employer x y, where it can bind
        y_col = np.full(K, -1, np.int64)
        y_col[ta] = K + yi
        rows.cap(np.where(team, st.mc[keep], -1), lambda g: st.mc_cap[g], y=y_col)
    return Y


def _stoppable(run: Callable[[], Any], time_limit: float | None, fork: bool = True) -> Any:
    """``run()`` (SciPy's HiGHS, which nothing can interrupt) where it can be stopped
    (:func:`~koeeo_match.parallel.run_stoppable`: a forked process, killed; with ``fork=False`` or
    where none can be forked, a thread, abandoned), while this thread watches Ctrl-C
    (:data:`~._auto_clock.INTERRUPTED`) and the time: past ``time_limit`` and a grace
    (:data:`LP_GRACE`, :data:`LP_GRACE_SHARE`: HiGHS' presolve overruns its limit) or on Ctrl-C,
    ``None`` at once."""
    give_up = None if time_limit is None else time.monotonic() + time_limit + max(LP_GRACE, LP_GRACE_SHARE * time_limit)
    ended, res = run_stoppable(run, (), lambda: INTERRUPTED.is_set() or give_up is not None
                               and time.monotonic() > give_up, "highs-lp", fork=fork)
    if not ended:
        log.info("lp: HiGHS stopped (%s)", "interrupted" if INTERRUPTED.is_set() else "past its time limit")
        return None
    return res


def _solve(obj: np.ndarray, A: sp.csr_matrix, b: np.ndarray, lo: np.ndarray,
           time_limit: float | None) -> tuple[np.ndarray | None, float, np.ndarray]:
    """Maximise ``obj x`` s.t. ``A x <= b``, ``lo <= x <= 1`` with HiGHS' dual simplex: (x, a rigorous
    bound on the optimum, the multipliers ``l >= 0`` of the rows that prove it), or
    ``(None, nan, [])`` when HiGHS does not finish or finds it infeasible.

    The bound is weak duality with the multipliers HiGHS returns (clipped to the valid sign),
    ``b'l + sum_a max(0, c_a - (A'l)_a)`` (and ``lo`` for the forced), with a small margin."""
    n_rows = A.shape[0]
    options: dict[str, bool | float] = {"presolve": True}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.01)
    res = _stoppable(lambda: linprog(-obj, A_ub=A if n_rows else None, b_ub=b if n_rows else None,
                                     bounds=np.stack([lo, np.ones(obj.size)], 1), method="highs-ds",
                                     options=options), time_limit, obj.size >= LP_PROCESS_COLUMNS)
    if res is None or res.status != 0 or res.x is None:
        return None, math.nan, np.zeros(0)
    lam = np.maximum(-res.ineqlin.marginals, 0.0) if n_rows else np.zeros(0)
    reduced = obj - (A.T @ lam if n_rows else 0.0)
    dual = float(b @ lam) + float(np.where(reduced > 0, reduced, reduced * lo).sum())
    return res.x, dual + (1e-9 * abs(dual) + 1e-6), lam
