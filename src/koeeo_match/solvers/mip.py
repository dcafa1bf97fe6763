"""The every-rule model as a mixed-integer program, solved by HiGHS through OR-Tools MathOpt.

The model is the LP relaxation of :mod:`~koeeo_match.solvers.lp` with
integrality: one binary ``x_a`` per useful candidate arc (forced arcs fixed
to 1) and one binary ``y_m`` per team mission, and the rows of
:func:`~koeeo_match.solvers.lp.rule_rows` (employee hours, one mission per
date, seats, ``min_seats * y <= sum x <= seats * y`` with ``x_a <= y``,
``max_per_employer``, employer daily caps and hour budgets, each only where it
can bind).  These are exactly the rules CP-SAT enforces
(:mod:`~koeeo_match.solvers.cpsat`); the team links make the relaxation nearly
integral on generated instances, which is what branch-and-bound needs
(docs/solvers.md, "The MIP route").

It is built from numpy arrays without a Python loop over arcs: MathOpt's
``Model`` adds variables and constraints one call at a time, so this module
fills MathOpt's ``ModelProto`` directly (its repeated fields from arrays) and
hands it to MathOpt's solver entry point (what ``mathopt.solve`` calls once
it has exported a ``Model``); the solution is read back as arrays too.

**Objective.**  The integer arc scores (``graph.score``).  For a
lexicographic policy in two stages, as the scores intend: first the primary
objective alone (small integers, proven exactly), then, with the primary
total held at its optimum, the secondary one, from the first stage's
solution.  A weighted policy is one stage.  HiGHS gets each stage's integer
scores shifted down by a power of two (exact; :func:`_objective_shift`), with
a relative gap of zero and an absolute gap of half a unit, so that a proof
(status ``optimal``) is exact to one unit of the integer scores: HiGHS prunes
what cannot gain more than its feasibility tolerance (1e-6) in the units it
is given, and scores divided by the largest (until 2026-12) let it "prove" a
solution 5 units of 2.8e8 short.  A proof that HiGHS' own start beats is not
kept (:func:`_kept`); the tests compare its optima with CP-SAT's exact ones.

**Bound.**  An upper bound on the total integer score: the optimum when
proven; otherwise HiGHS' dual bound, raised by a margin for its tolerances and
rounded down (the score total is an integer), or none if its start refuted
its proof; for a lexicographic policy
whose first stage did not finish, that bound on the primary total times the
multiplier plus a bound on any secondary total
(:func:`~koeeo_match.solvers.lp.secondary_max`).

**Time and Ctrl-C.**  The time limit is HiGHS' own.  MathOpt's HiGHS (OR-Tools
9.15) honours neither MathOpt's interrupter nor its callbacks (measured: an
interrupt after 1.5 s of a 5.8 s solve, and callbacks on MIP events, were
ignored), and it overruns its limit in long presolves or LPs.  So each HiGHS
run of :data:`MIP_PROCESS_COLUMNS` columns or more is a forked process of its own
(:func:`~koeeo_match.parallel.run_stoppable`; 10 to 50 ms to start) while the calling thread watches a ``stop`` event,
Ctrl-C (in the main thread) and the deadline (plus a grace), and then kills it:
the solve keeps what it had before that HiGHS run (the first stage's solution,
or the hint), and nothing is left running.  (A smaller model, and any model where
no process can be forked, in a job of the caller's executor or a pool worker, runs
in a thread that is abandoned instead, and ends at its own limit.)
Same input, same seed, no time limit reached: same answer.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)
from ortools.math_opt.core.python import solver as mathopt_core

from ..candidates import CandidateGraph
from ..model import Problem
from ..parallel import run_stoppable
from ..status import Status, Termination
from ._auto_clock import SigintFlag
from ._base import RawResult, SolveOptions
from ._structure import Structure, structure, useful_arcs
from .lp import rule_rows, secondary_max

__all__ = ["MipModel", "mip_model", "solve_mip", "SOLVER"]

log = logging.getLogger(__name__)

#: The MIP solver behind MathOpt (shipped in the OR-Tools wheel): ``mathopt.SolverType.HIGHS``.
SOLVER = parameters_pb2.SOLVER_TYPE_HIGHS
#: The tie-break stage runs HiGHS' presolve only on models of at most this many arc columns.  The
#: whole solve, fastest of 9 interleaved runs, presolve on / off there: Bretagne 300 (231 arcs)
#: 14 / 22 ms; Bretagne 1,000 (2,372 arcs) 0.33 / 0.28 s; Bretagne 1,200 (3,394 arcs) 0.65 / 0.58 s;
#: Bretagne 2,000 (9,210 arcs, one run each) 3.5 / 1.7 s.
TIE_PRESOLVE_ARCS = 1_000
#: Relative margin added to HiGHS' dual bound before rounding it down (its tolerances are 1e-6 to 1e-9).
_MARGIN = 1e-6
#: HiGHS gets the integer scores, shifted down by a power of two (exact) to at most 2**_COEF_BITS.
#: It stops searching where no node can beat its incumbent by more than its feasibility tolerance
#: (1e-6) in the objective's own units, or, the coefficients being integers, by one unit: so one
#: integer unit must stay well above 1e-6 (_MAX_SHIFT: 2**-16 = 1.5e-5).  Scores divided by the
#: largest (until 2026-12) let it stop 5 units short of 2.8e8 (tests/test_mip.py).  Unshifted,
#: coefficients near 2**30 made its LPs slow: the tie-breaks of Bretagne 2,000 took 17.4 s to prove
#: instead of 1.8 s (shifted by 5 to 16 bits: 1.8-1.9 s).
_COEF_BITS = 20
_MAX_SHIFT = 16
_R = result_pb2
#: HiGHS overruns its time limit (presolve, a long LP): past limit + max(_GRACE, _GRACE_SHARE x limit)
#: seconds, the solve stops waiting for it and keeps what it had.
_GRACE, _GRACE_SHARE = 1.0, 0.1
#: ... but never past the solve's own time limit plus _HARD_GRACE seconds.
_HARD_GRACE = 0.1
#: A model of at least MIP_PROCESS_COLUMNS columns is solved in a forked process of its own (killed when
#: stopped); a smaller one in a thread (abandoned when stopped): a fork costs 10 to 50 ms, more than such a
#: model's whole solve (a year of small batches solves hundreds of them: 330 of at most 337 columns, each
#: under 0.07 s, in tests/test_year_bench.py's teams year).
MIP_PROCESS_COLUMNS = 5_000


@dataclass(frozen=True, eq=False)
class MipModel:
    """The every-rule MIP of a candidate graph: maximise ``c v`` s.t. ``A v <= b``, ``lo <= v <= 1``,
    ``v`` integer.  Columns ``0 .. K - 1`` are the arcs ``keep`` (indices into the graph), the
    next ``n_y`` the team missions' run variables.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> m = mip_model(p, km.build_candidates(p, "max_hours"))
    >>> m.n == m.keep.size + m.n_y, m.A.shape[1] == m.n
    (True, True)
    """

    keep: np.ndarray
    n_y: int
    A: sp.csr_matrix
    b: np.ndarray
    lo: np.ndarray
    team_missions: np.ndarray  # the mission of each team column, ascending (lp.rule_rows' order)

    @property
    def n(self) -> int:
        """Number of columns."""
        return int(self.keep.size + self.n_y)

    def proto(self, c: np.ndarray, at_least: tuple[np.ndarray, float] | None = None) -> model_pb2.ModelProto:
        """MathOpt's model maximising ``c`` (one coefficient per column), with one more row
        ``coef v >= rhs`` when ``at_least = (coef, rhs)``, filled from arrays."""
        n, (n_rows, _) = self.n, self.A.shape
        proto = model_pb2.ModelProto()
        var = proto.variables
        var.ids.extend(range(n))
        var.lower_bounds.extend(self.lo.tolist())
        var.upper_bounds.extend(np.ones(n).tolist())
        var.integers.extend(np.ones(n, bool).tolist())
        proto.objective.maximize = True
        nz = np.flatnonzero(c)
        proto.objective.linear_coefficients.ids.extend(nz.tolist())
        proto.objective.linear_coefficients.values.extend(c[nz].astype(np.float64).tolist())
        rows, cols, vals = self.A.indptr, self.A.indices, self.A.data
        row_ids = np.repeat(np.arange(n_rows), np.diff(rows))
        lower, upper = np.full(n_rows, -math.inf), self.b.astype(np.float64)
        if at_least is not None:
            coef, rhs = at_least
            on = np.flatnonzero(coef)
            row_ids = np.concatenate([row_ids, np.full(on.size, n_rows)])
            cols, vals = np.concatenate([cols, on]), np.concatenate([vals, coef[on]])
            lower, upper = np.append(lower, rhs), np.append(upper, math.inf)
            n_rows += 1
        con = proto.linear_constraints
        con.ids.extend(range(n_rows))
        con.lower_bounds.extend(lower.tolist())
        con.upper_bounds.extend(upper.tolist())
        mat = proto.linear_constraint_matrix
        mat.row_ids.extend(row_ids.tolist())
        mat.column_ids.extend(cols.tolist())
        mat.coefficients.extend(vals.astype(np.float64).tolist())
        return proto

    def feasible(self, v: np.ndarray) -> bool:
        """Whether the 0/1 vector ``v`` keeps every row (integer data: exact)."""
        return bool((v >= self.lo).all() and (self.A @ v.astype(np.float64) <= self.b + 1e-6).all())

    def columns(self, graph: CandidateGraph, arcs: np.ndarray) -> np.ndarray:
        """The 0/1 column vector of the solution ``arcs`` (graph arc indices; arcs not kept are
        left out): each team runs iff one of its arcs is taken."""
        taken = np.zeros(len(graph), bool)
        taken[np.asarray(arcs, np.int64)] = True
        v = np.zeros(self.n, bool)
        v[: self.keep.size] = taken[self.keep]
        if self.n_y:
            v[self.keep.size:] = np.isin(self.team_missions, graph.mission[self.keep[v[: self.keep.size]]])
        return v


def mip_model(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> MipModel:
    """The every-rule MIP of ``graph`` (:class:`MipModel`), vectorised."""
    st = st or structure(problem, graph)
    keep = useful_arcs(graph, st)
    A, b, n_y = rule_rows(problem, graph, st, keep)
    lo = np.zeros(keep.size + n_y)
    lo[np.searchsorted(keep, st.forced_arc[st.forced_arc >= 0])] = 1.0
    ma = graph.mission[keep]
    team_missions = np.unique(ma[st.team[ma]])
    assert team_missions.size == n_y  # rule_rows numbers its team columns by mission, ascending
    return MipModel(keep, n_y, A, b, lo, team_missions)


@dataclass
class _Answer:
    """One HiGHS run: the rounded solution (``None``: none), why it stopped, its dual bound."""

    v: np.ndarray | None
    reason: int
    dual: float
    seconds: float
    stopped: bool = False  # stopped: Ctrl-C, the stop event or far past its time limit
    interrupted: bool = False  # stopped for Ctrl-C or the stop event

    @property
    def proven(self) -> bool:
        return self.reason == _R.TERMINATION_REASON_OPTIMAL and self.v is not None


def solve_mip(problem: Problem, graph: CandidateGraph, options: SolveOptions, *,
              stop: threading.Event | None = None, shares: tuple[float, float] = (1.0, 1.0)) -> RawResult:
    """Solve the every-rule model as a MIP (HiGHS through MathOpt) within ``options.time_limit``.

    Parameters
    ----------
    problem, graph, options
        As every solver (:class:`~koeeo_match.solvers.SolveOptions`: ``time_limit``, ``seed``,
        ``hint``: arc indices of a feasible solution, given to HiGHS as a start and kept if
        HiGHS finds nothing better).
    stop : threading.Event, optional
        Set by another thread (``auto``'s Ctrl-C flag): the solve returns at once.
    shares : (float, float)
        Under a time limit, the share of the time left that the first stage (the primary
        objective, or the whole score of a weighted policy) and the second (a lexicographic
        policy's secondary objective at the proven primary optimum) may take when each starts.

    Returns
    -------
    RawResult
        Selected arcs; ``optimal`` (proven, bound = objective), ``feasible`` (with the bound of
        the module docstring), ``infeasible`` (forced pairs that cannot all hold) or ``unknown``
        (no solution within the time).  ``stats``: seconds of each stage (``mip_seconds``),
        whether the first stage was proven (``mip_primary_proven``) and that stage's optimum
        (``mip_primary``, in primary units of the integer scores).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.region("Bretagne", employees=300, seed=0)
    >>> g = km.build_candidates(p, "max_hours")
    >>> res = solve_mip(p, g, SolveOptions(time_limit=10))
    >>> res.status, int(g.score[res.selected].sum()) == res.bound
    (<Status.OPTIMAL: 'optimal'>, True)
    """
    deadline = None if options.time_limit is None else time.monotonic() + float(options.time_limit)
    st = structure(problem, graph)
    missing = np.flatnonzero(st.forced_arc < 0)
    if missing.size:
        return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None,
                         f"{missing.size} forced pair(s) are not eligible (see explain() for the rule that "
                         "excludes each)", {"forced_ineligible": True})
    model = mip_model(problem, graph, st)
    K = model.keep.size
    score = graph.score[model.keep]
    sc = graph.scale
    lex = bool(sc.lexicographic and sc.multiplier > 1)
    primary = sc.primary(score) if lex else score
    hint = None if options.hint is None else model.columns(graph, options.hint)
    hint = hint if hint is not None and model.feasible(hint) else None
    zeros_y = np.zeros(model.n_y, np.int64)
    stats: dict = {"mip_seconds": []}
    with _Watch(stop) as watch:
        c1 = np.concatenate([primary, zeros_y])
        a1 = _run(model, c1, None, _share(_left(deadline), shares[0]), options.seed, hint, watch, until=deadline)
        stats["mip_seconds"].append(round(a1.seconds, 4))
        v, proven = _kept(a1, hint, c1)
        stats["mip_primary_proven"] = proven
        if v is None:
            return _no_solution(a1, stats)
        value = int(score[v[:K]].sum())
        p_val = int(primary[v[:K]].sum())
        stats["mip_primary"] = p_val
        # HiGHS' proof refuted by its start: its dual bound is not trusted either
        bound = value if proven else None if a1.proven else _floor_bound(a1.dual)
        if lex:
            sec = score - primary * sc.multiplier
            sec_max = secondary_max(graph, st, model.keep, sec)
            bound = None if bound is None else (p_val if proven else bound) * sc.multiplier + sec_max
            left = _share(_left(deadline), shares[1])
            if proven and not np.any(sec):
                bound = value
            elif proven and (left is None or left > 0.05) and shares[1] > 0 and not watch.hit():
                # the tie-breaks, the primary total held at its optimum
                at_least = (c1.astype(np.float64), p_val - 0.5)
                a2 = _run(model, np.concatenate([sec, zeros_y]), at_least, left, options.seed, v, watch,
                          presolve=K <= TIE_PRESOLVE_ARCS, until=deadline)
                stats["mip_seconds"].append(round(a2.seconds, 4))
                # compared on the whole score: a solution below the primary optimum is not kept
                kept, proven2 = _kept(a2, v, np.concatenate([score, zeros_y]))
                v = v if kept is None else kept  # (never None: v is the start)
                value = int(score[v[:K]].sum())
                sec_bound = _floor_bound(a2.dual)
                if proven2:
                    bound = value
                elif not a2.proven and bound is not None and sec_bound is not None:
                    bound = min(bound, p_val * sc.multiplier + sec_bound)
        interrupted = watch.hit()
    if bound is not None and bound < value:  # HiGHS' tolerances; the solution itself is checked exactly
        log.warning("mip: HiGHS' bound %d is below the value %d of its solution; bound raised", bound, value)
        bound = value
    status = Status.OPTIMAL if bound is not None and value >= bound else Status.FEASIBLE
    ended = (Termination.OPTIMAL if status == Status.OPTIMAL else Termination.INTERRUPTED if interrupted
             else Termination.TIME_LIMIT)
    msg = "" if status == Status.OPTIMAL else (
        "interrupted (Ctrl-C): best solution found so far" if interrupted
        else "time limit reached; best solution found so far")
    log.debug("mip: %d arcs, %d rows, value %d, bound %s, %s s", K, model.A.shape[0], value, bound,
              stats["mip_seconds"])
    return RawResult(model.keep[v[:K]], status, bound, msg, stats, termination=ended)


def _share(left: float | None, share: float) -> float | None:
    """``share`` of the seconds ``left`` (``None``: no limit)."""
    return None if left is None else left * min(max(share, 0.0), 1.0)


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _floor_bound(dual: float) -> int | None:
    """An integer upper bound from HiGHS' dual bound (in integer score units), with a margin for
    its tolerances; ``None`` if it has none."""
    if not math.isfinite(dual):
        return None
    return math.floor(dual + _MARGIN * max(abs(dual), 1.0))


def _kept(a: _Answer, start: np.ndarray | None, c: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """(The better for the integer objective ``c`` of HiGHS' solution and its ``start`` (HiGHS' on
    a tie), whether HiGHS' proof stands.)  A proof that its own start refutes (the start scores
    more) is HiGHS' tolerances at work: not kept."""
    if a.v is None:
        return start, False
    if start is None or int(c[a.v].sum()) >= int(c[start].sum()):
        return a.v, a.proven
    if a.proven:
        log.warning("mip: HiGHS proved %d optimal, but its start scores %d: proof not kept",
                    int(c[a.v].sum()), int(c[start].sum()))
    return start, False


def _objective_shift(c: np.ndarray) -> int:
    """``k`` such that HiGHS gets the integer objective ``c`` times ``2**-k`` (exact in floating
    point): its largest coefficient below ``2**_COEF_BITS``, ``k`` at most :data:`_MAX_SHIFT`.

    >>> _objective_shift(np.array([3, -7])), _objective_shift(np.array([2**30])), _objective_shift(np.array([2**60]))
    (0, 11, 16)
    """
    top = int(np.abs(c).max(initial=0))
    return min(max(top.bit_length() - _COEF_BITS, 0), _MAX_SHIFT)


def _no_solution(a: _Answer, stats: dict) -> RawResult:
    if a.reason == _R.TERMINATION_REASON_INFEASIBLE:
        return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None,
                         "HiGHS proved that the hard rules (forced pairs, team minimums) cannot all hold", stats)
    why = "was interrupted (Ctrl-C) before it found a solution" if a.interrupted \
        else "found no solution within the time limit"
    return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, f"HiGHS {why}", stats,
                     termination=Termination.INTERRUPTED if a.interrupted else Termination.TIME_LIMIT)


class _Watch(SigintFlag):
    """Ctrl-C (main thread only: a SIGINT handler that chains to the previous one) and a ``stop``
    event from another thread, as one flag that :func:`_run` watches."""

    def __init__(self, stop: threading.Event | None) -> None:
        super().__init__()
        self.stop = stop

    def hit(self) -> bool:
        return self.sigint.is_set() or (self.stop is not None and self.stop.is_set())


#: A time limit of this many seconds or more (about 32 years) is none for HiGHS: a timedelta cannot hold
#: ``inf`` or 1e300, which ``time_limit`` accepts.
_NO_LIMIT = 1e9


def _highs(proto: model_pb2.ModelProto, params: parameters_pb2.SolveParametersProto,
           model_params: model_parameters_pb2.ModelSolveParametersProto) -> bytes:
    """One HiGHS solve, its ``SolveResultProto`` serialised: what ``mathopt.solve`` calls once it
    has exported its model (no message callback, no callback, no interrupter: MathOpt's HiGHS
    honours neither, measured with OR-Tools 9.15)."""
    res = mathopt_core.solve(proto, SOLVER, parameters_pb2.SolverInitializerProto(), params, model_params,
                             None, callback_pb2.CallbackRegistrationProto(), None, None)
    return bytes(res.SerializeToString())


def _run(model: MipModel, c: np.ndarray, at_least: tuple[np.ndarray, float] | None, seconds: float | None,
         seed: int, hint: np.ndarray | None, watch: _Watch, presolve: bool = True,
         until: float | None = None) -> _Answer:
    """One HiGHS solve of ``model`` maximising the integer objective ``c`` (one coefficient per
    column; ``at_least`` as :meth:`MipModel.proto`), proven to one unit of ``c`` (gap tolerances
    of :func:`_objective_shift`), in a process of its own (:func:`~koeeo_match.parallel.run_stoppable`;
    under :data:`MIP_PROCESS_COLUMNS` columns, a thread), stopped on ``watch``, past its
    ``seconds`` and a grace, or past ``until`` (``time.monotonic()``,
    the whole solve's limit) and :data:`_HARD_GRACE`.  The solution is rounded and checked against
    ``model``'s rows; the dual bound is in units of ``c``."""
    shift = _objective_shift(c)
    proto = model.proto(np.ldexp(c.astype(np.float64), -shift), at_least)
    params = parameters_pb2.SolveParametersProto()
    if seconds is not None and float(seconds) < _NO_LIMIT:  # beyond it (inf included): HiGHS runs unlimited
        params.time_limit.FromTimedelta(datetime.timedelta(seconds=max(float(seconds), 0.01)))
    params.random_seed = int(seed)
    params.relative_gap_tolerance = 0.0
    params.absolute_gap_tolerance = math.ldexp(0.5, -shift)  # half a unit of c
    if not presolve:
        params.presolve = parameters_pb2.EMPHASIS_OFF
    model_params = model_parameters_pb2.ModelSolveParametersProto()
    if hint is not None:
        h = model_params.solution_hints.add()
        h.variable_values.ids.extend(range(hint.size))
        h.variable_values.values.extend(hint.astype(np.float64).tolist())
    t0 = time.monotonic()
    give_up = None if seconds is None else t0 + seconds + max(_GRACE, _GRACE_SHARE * seconds)
    if until is not None:
        give_up = until + _HARD_GRACE if give_up is None else min(give_up, until + _HARD_GRACE)
    ended, raw = run_stoppable(_highs, (proto, params, model_params),
                               lambda: watch.hit() or give_up is not None and time.monotonic() > give_up, "highs-mip",
                               fork=model.n >= MIP_PROCESS_COLUMNS)
    if not ended:  # HiGHS cannot be stopped through MathOpt: its process is killed (or its thread left)
        log.info("mip: HiGHS stopped (%s)", "interrupted" if watch.hit() else "past its time limit")
        return _Answer(None, _R.TERMINATION_REASON_NO_SOLUTION_FOUND, math.inf, time.monotonic() - t0, True,
                       watch.hit())
    seconds_used = time.monotonic() - t0
    res = result_pb2.SolveResultProto.FromString(raw)
    v = None
    if res.solutions and res.solutions[0].HasField("primal_solution"):
        ps = res.solutions[0].primal_solution
        if ps.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE:
            x = np.zeros(model.n)
            x[np.asarray(ps.variable_values.ids, np.int64)] = np.asarray(ps.variable_values.values)
            v = x > 0.5
            if not model.feasible(v):  # HiGHS' tolerances let it through: not ours to return
                log.warning("mip: HiGHS' solution breaks a rule once rounded; ignored")
                v = None
    dual = math.ldexp(float(res.termination.objective_bounds.dual_bound), shift)
    return _Answer(v, int(res.termination.reason), dual, seconds_used)
