"""Exact CP-SAT model honouring every rule of DESIGN.md §4.

One Boolean per candidate arc.  Constraints (only those that can bind are
posted): employee hours (integer, see ``hours_unit``), at most one mission per
(employee, date), mission seats, team minimum (``0`` or ``>= min_seats``, with
one Boolean per team mission; ``>= min_seats`` for a team started by pinned
pairs, see :class:`~koeeo_match.model.Taken`), ``max_per_employer``, employer daily caps and
hour budgets, forced pairs fixed to 1 (forbidden pairs are not arcs at all).
The objective maximises the integer arc scores.

Search is deterministic for a given seed (``interleave_search``) as long as
the time limit is not reached; the time limit always returns the best
solution found, its status (``feasible``) and CP-SAT's proven bound.

**Warm start.**  Without a caller's hint, the greedy solution
(:func:`~koeeo_match.solvers.greedy.greedy_from`, about 0.7 s at 2 M arcs; it
stops at the deadline or Ctrl-C with what it took by then, every rule kept) is
CP-SAT's hint and the answer whenever CP-SAT has nothing better: so a time
limit or Ctrl-C never returns nothing when a feasible start exists.

**Time limit and Ctrl-C.**  The time limit counts from the call: building the
model (a Python call per arc and per group of arcs: about 15 µs per arc,
docs/solvers.md "Time limits") checks the deadline and Ctrl-C between chunks of
variables and groups of constraints; if it cannot finish, the greedy start is
returned (status ``feasible``, termination ``time_limit`` or ``interrupted``)
with the one-pass bound (:func:`~.lp.quick_bound`).  CP-SAT then gets what is
left of the limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from ..candidates import CandidateGraph
from ..errors import SolverError
from ..model import Problem
from ..status import Status, Termination
from ._auto_clock import INTERRUPTED, SigintFlag
from ._base import RawResult, SolveOptions, register
from ._structure import Structure, structure, useful_arcs
from .greedy import cut_note, greedy_from
from .lp import quick_bound

__all__ = ["solve_cpsat", "SEARCH_BYTES_PER_ARC", "SECONDS_PER_VAR", "GUARD_VARS"]

log = logging.getLogger(__name__)


_BIG_MODEL = 50_000  # arcs above which presolve is kept short
_LNS_MIN_ARCS = 20_000  # hinted models from this size, with a time limit, run LNS on racing threads
_CHUNK = 10_000  # model building checks the deadline and Ctrl-C every _CHUNK variables or groups
_INT_MAX = 2**62  # an upper end of a constraint's domain that never binds
#: CP-SAT's presolve can overrun its time limit (one step ran 5.2 s past a 3 s limit on one mission
#: with 10,000 seats and 12,000 volunteers): past the deadline plus _STOP_GRACE seconds the search is
#: told to stop (``stop_search``), and waited for: a CP-SAT thread still running when the
#: interpreter exits aborts the process ("terminate called without an active exception"), so it
#: is never abandoned.
_STOP_GRACE = 0.2
#: CP-SAT's interleaved search looks at its limit between batches of subsolver tasks: a batch ran
#: 0.6 s past a 1 s limit at 57,093 arcs (Bretagne 5,000, load 4.5).  So it is given what is left
#: less this share of it, at most _END_MAX seconds.
_END_SHARE, _END_MAX = 0.25, 0.5
#: CP-SAT cannot be stopped before every worker has loaded the model and run its first propagation
#: (no ``stop_search`` or time limit is seen until then): 17.96 s of wall time for a model of 504,425
#: variables given 9.0 s (``km.synth.france(seed=0, scale=0.01, rules="all")``, ``cpsat``,
#: ``time_limit=15``, load 2.1-2.4), 36 us a variable.  A model above :data:`GUARD_VARS` variables
#: is searched only when that many seconds per variable fit in the time left; otherwise the answer is
#: the greedy start (the search could not have ended in time, nor improved it before).  Smaller
#: models are not held to it: at 57,093 arcs a whole run took 1.6 s (load 4.5), less than the rate
#: says, and the rate was measured at 504,425 variables only.
SECONDS_PER_VAR = 3.6e-5
GUARD_VARS = 200_000
#: Peak bytes per arc of a CP-SAT search (2 workers), the graph's included: the lowest figure measured
#: (docs/solvers.md, "Memory: refused up front"; ``memory.BYTES_PER_ARC["cpsat"]``).  A model built
#: whose search would need more than ``SolveOptions.memory_bytes`` is not searched.
SEARCH_BYTES_PER_ARC = 14_000
#: The guard is a safety net behind the check up front, not a second check: it acts only under a
#: time limit (the one case the check lets a model through without counting its search) and only
#: past GUARD_MARGIN times the memory (the check counts arcs at their lower 3-standard-error
#: estimate: a problem just inside it must not be refused here).
GUARD_MARGIN = 1.25


class _Stop(Exception):
    """Model building ran out of time, or Ctrl-C."""


class _Sigint(SigintFlag):
    """Ctrl-C during this solve, or during the ``auto`` solve that called it."""

    def stopped(self) -> bool:
        return self.sigint.is_set() or INTERRUPTED.is_set()


def _groups(ids: np.ndarray, members: np.ndarray):
    """Yield (group id, member positions) for ids >= 0."""
    valid = np.flatnonzero(ids >= 0)
    if valid.size == 0:
        return
    order = valid[np.argsort(ids[valid], kind="stable")]
    g = ids[order]
    cuts = np.flatnonzero(np.diff(g)) + 1
    for chunk in np.split(order, cuts):
        yield int(ids[chunk[0]]), members[chunk]


@register("cpsat", supports="all")
def solve_cpsat(problem: Problem, graph: CandidateGraph, options: SolveOptions, lns_only: bool = False,
                min_primary: int | None = None) -> RawResult:
    """Solve the whole problem with CP-SAT (exact given time; every rule).

    ``lns_only`` (with a hint and a time limit): large-neighbourhood search around the hint
    only (which proves a small model optimal at most).  Single-threaded, CP-SAT's interleaved
    portfolio spends seconds starting its full-search subsolvers before any LNS
    (docs/solvers.md), so :mod:`~koeeo_match.solvers.auto` searches a part's core this way.

    ``min_primary`` (a lexicographic policy): the primary total is held at least that (the proven
    primary optimum, :mod:`~koeeo_match.solvers.mip`): the search is then on the tie-breaks, and
    its bound stays one for the problem, which no solution above that optimum exists to break."""
    t0 = time.monotonic()
    deadline = None if options.time_limit is None else t0 + float(options.time_limit)
    st = structure(problem, graph)
    refused = _ineligible(problem, st)
    if refused is not None:
        return refused
    keep = useful_arcs(graph, st)
    short = _short_teams(problem, graph, st, keep)
    if short is not None:
        return short
    with _Sigint() as sigint:
        def late() -> bool:
            return sigint.stopped() or (deadline is not None and time.monotonic() >= deadline)

        def check() -> None:
            if late():
                raise _Stop

        # the greedy start stops at the deadline too (what it took by then, every rule kept)
        start = None if options.hint is not None else greedy_from(problem, graph, stop=late)
        if start is not None and start.status != Status.FEASIBLE:
            start = None  # forced pairs the greedy could not place: CP-SAT alone
        hint = options.hint if start is None else start.selected

        # the search would not start: nor does the build
        if _unsearchable(keep.size, options.hint is not None, lns_only, deadline):
            return _unsearched(problem, graph, st, start, _too_late(keep.size, deadline, built=False),
                               Termination.TIME_LIMIT, built=False)
        try:
            model, runs = _build(problem, graph, st, keep, min_primary, check)
            if hint is not None:
                _add_hint(model, runs, keep, len(graph), hint)
            check()
        except _Stop:
            return _unbuilt(problem, graph, st, start, sigint.stopped(), time.monotonic() - t0)
        need = keep.size * SEARCH_BYTES_PER_ARC
        if (options.memory_bytes is not None and options.time_limit is not None
                and need > GUARD_MARGIN * options.memory_bytes):
            # the memory check up front let it through, counting on a time limit too short to build it
            return _unsearched(problem, graph, st, start, f"CP-SAT's model of {len(graph):,} arcs was built, but "
                               f"its search would need about {need / 2**30:.3g} GiB and "
                               f"{options.memory_bytes / 2**30:.3g} GiB may be used (memory_limit)",
                               Termination.COMPLETED)
        rest = None if deadline is None else deadline - time.monotonic()
        if _unsearchable(keep.size, options.hint is not None, lns_only, deadline):
            return _unsearched(problem, graph, st, start, _too_late(keep.size, deadline, built=True),
                               Termination.TIME_LIMIT)
        solver = cp_model.CpSolver()
        _set_parameters(solver.parameters, options, keep.size, lns_only, rest)
        if options.progress:
            solver.parameters.log_search_progress = True
            solver.parameters.log_to_stdout = False
            solver.log_callback = options.progress
        status, interrupted = _solve_interruptibly(solver, model, deadline)
        interrupted = interrupted or sigint.stopped()
    res = _result(solver, model, status, interrupted, keep)
    return _or_start(problem, graph, st, res, start)


def _build(problem: Problem, graph: CandidateGraph, st: Structure, keep: np.ndarray, min_primary: int | None,
           check: Callable[[], None]) -> tuple[cp_model.CpModel, list[tuple]]:
    """The model of the kept arcs: one Boolean per arc (model variable ``i`` for ``keep[i]``), every
    rule, the objective; ``check`` is called between chunks and raises :class:`_Stop` to give up."""
    model = cp_model.CpModel()
    x: list = []
    for lo in range(0, keep.size, _CHUNK):
        x.extend(model.new_bool_var(f"x{a}") for a in keep[lo: lo + _CHUNK].tolist())
        check()
    runs = _post_rules(model, x, problem, graph, st, keep, check)
    # the objective and the primary floor straight into the proto, from arrays (CpModel.maximize
    # of a weighted sum costs about 5 us per arc)
    proto = model.proto
    ids = np.arange(keep.size).tolist()
    score = graph.score[keep]
    proto.objective.vars.extend(ids)
    proto.objective.coeffs.extend((-score).tolist())
    proto.objective.scaling_factor = -1.0  # maximise: CP-SAT minimises the negated sum
    if min_primary is not None:
        floor = proto.constraints.add().linear
        floor.vars.extend(ids)
        floor.coeffs.extend(graph.scale.primary(score).tolist())
        floor.domain.extend([int(min_primary), _INT_MAX])
    return model, runs


def _unbuilt(problem: Problem, graph: CandidateGraph, st: Structure, start: RawResult | None, interrupted: bool,
             seconds: float) -> RawResult:
    """The answer when the model could not be built in time (or Ctrl-C came first): the greedy
    start, with the one-pass bound."""
    ended = Termination.INTERRUPTED if interrupted else Termination.TIME_LIMIT
    what = (f"CP-SAT was interrupted (Ctrl-C) while building its model of {len(graph):,} arcs" if interrupted
            else f"CP-SAT's model of {len(graph):,} arcs could not be built within the time limit ({seconds:.1f} s)")
    cut = "" if start is None else cut_note(start)
    return _greedy_answer(problem, graph, st, start, what, ended, {"cpsat_built": False},
                          f"best solution found so far, the greedy one{cut}")


def _unsearchable(n_vars: int, hinted: bool, lns_only: bool, deadline: float | None) -> bool:
    """Whether a model of ``n_vars`` variables is too big to search before ``deadline``: its
    workers' first propagation, which nothing stops, would outlast it (:data:`SECONDS_PER_VAR`,
    above :data:`GUARD_VARS`); the greedy start answers instead, or, with none (forced pairs or a
    started team it could not complete), nothing: the limit is kept.  A caller's hint
    (``hinted``: a part of ``auto``, whose own start stands behind it) is searched from."""
    return (deadline is not None and not hinted and n_vars > GUARD_VARS and not lns_only
            and deadline - time.monotonic() < SECONDS_PER_VAR * n_vars)


def _too_late(n_vars: int, deadline: float | None, built: bool) -> str:
    """What :func:`_unsearched` says of a model :func:`_unsearchable` found too big."""
    rest = 0.0 if deadline is None else max(deadline - time.monotonic(), 0.0)
    return (f"CP-SAT's model of {n_vars:,} variables was {'built, but' if built else 'not built:'} its workers' "
            f"first propagation alone takes about {SECONDS_PER_VAR * n_vars:.1f} s and {rest:.1f} s of the time "
            "limit were left")


def _unsearched(problem: Problem, graph: CandidateGraph, st: Structure, start: RawResult | None, what: str,
                termination: Termination, built: bool = True) -> RawResult:
    """The answer when the model was not searched (``what`` says why: its search would not fit in
    memory, or could not answer in the time left, :data:`SECONDS_PER_VAR`, in which case it is not
    built either unless the time was lost building it): the greedy start, with the one-pass bound."""
    return _greedy_answer(problem, graph, st, start, what, termination, {"cpsat_built": built, "cpsat_searched": False},
                          "the greedy solution")


def _greedy_answer(problem: Problem, graph: CandidateGraph, st: Structure, start: RawResult | None, what: str,
                   termination: Termination | None, stats: dict, which: str) -> RawResult:
    """The greedy ``start`` as the answer (``what`` says why CP-SAT's is not, ``which`` names the
    start), with the one-pass bound; none known: status unknown."""
    if start is None:
        return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, f"{what}, and no feasible start is known",
                         termination=termination)
    return RawResult(start.selected, Status.FEASIBLE, quick_bound(problem, graph, st), f"{what}: {which}", stats,
                     termination=termination)


def _or_start(problem: Problem, graph: CandidateGraph, st: Structure, res: RawResult,
              start: RawResult | None) -> RawResult:
    """CP-SAT's answer, or the greedy ``start`` where it is better: when CP-SAT found no solution
    (with the one-pass bound), or a worse one; a feasible answer's bound is the tighter of
    CP-SAT's and the one-pass bound."""
    if start is None or res.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return res
    value = int(graph.score[start.selected].sum())
    if res.status == Status.UNKNOWN:
        why = "interrupted (Ctrl-C) before it found a solution" if res.termination == Termination.INTERRUPTED \
            else "found no solution within the time limit"
        return _greedy_answer(problem, graph, st, start, f"CP-SAT {why}", res.termination, res.stats,
                              "best solution found so far, the greedy one")
    # CP-SAT's bound before its LP has run can be far looser than the one-pass bound (Bretagne 5,000,
    # 2 s: 288,457.5 h against 24,433.5 h): the tighter of the two
    qb = quick_bound(problem, graph, st)
    bound = qb if res.bound is None else min(res.bound, qb)
    if int(graph.score[res.selected].sum()) < value:
        return RawResult(start.selected, Status.FEASIBLE, bound, res.message + " (the greedy start: CP-SAT "
                         "found nothing better)", res.stats, termination=res.termination)
    return RawResult(res.selected, res.status, bound, res.message, res.stats, termination=res.termination)


def _ineligible(problem: Problem, st: Structure) -> RawResult | None:
    """The answer when a forced pair is not a candidate arc (no model can honour it), else ``None``."""
    missing = np.flatnonzero(st.forced_arc < 0)
    if not missing.size:
        return None
    fz = problem.forced
    i = missing[0]
    return RawResult(
        np.zeros(0, np.int64),
        Status.INFEASIBLE,
        None,
        f"{missing.size} forced pair(s) are not eligible, e.g. employee {problem.employees.ids[fz.employee[i]]!r} "
        f"and mission {problem.missions.ids[fz.mission[i]]!r} (see explain() for the rule that excludes it)",
        {"forced_ineligible": True},
    )


def _short_teams(problem: Problem, graph: CandidateGraph, st: Structure, keep: np.ndarray) -> RawResult | None:
    """The answer when a team started by pinned pairs has fewer candidates than it still needs
    (no model can complete it), else ``None``."""
    if not st.staffed.any():
        return None
    m = problem.missions
    have = np.bincount(graph.mission[keep], minlength=len(m))
    short = np.flatnonzero(st.staffed & (have < m.min_seats))
    if not short.size:
        return None
    j = short[0]
    return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None,
                     f"{short.size} team(s) started by fixed pairs cannot reach their minimum, e.g. mission "
                     f"{m.ids[j]!r} needs {int(m.min_seats[j])} more volunteer(s) and has {int(have[j])} candidate(s)")


def _post_rules(model: cp_model.CpModel, x: list, problem: Problem, graph: CandidateGraph, st: Structure,
                keep: np.ndarray, check: Callable[[], None] = lambda: None) -> list[tuple]:
    """Post every rule that can bind on the Booleans ``x`` of the kept arcs; returns the team
    missions' ``(run Boolean, member positions, min_seats)``, to complete a hint.  ``check`` is
    called every ``_CHUNK`` groups (it raises to give up)."""
    m = problem.missions
    K = keep.size
    xs = np.empty(K, dtype=object)
    xs[:] = x
    LE = cp_model.LinearExpr
    kh = st.arc_hours[keep]

    def cap(ids: np.ndarray, limit_of, weights: np.ndarray | None = None) -> None:
        for i, (g, members) in enumerate(_groups(ids[keep], np.arange(K))):
            if i % _CHUNK == _CHUNK - 1:
                check()
            lim = int(limit_of(g))
            w = np.ones(members.size, np.int64) if weights is None else weights[members]
            if int(w.sum()) <= lim:
                continue
            if lim <= 0:
                for v in xs[members]:
                    model.add(v == 0)
            else:
                model.add(LE.weighted_sum(list(xs[members]), w.tolist()) <= lim)

    cap(graph.employee.astype(np.int64), lambda e: st.emp_hours[e], kh)
    for i, (_, members) in enumerate(_groups(st.ed[keep], np.arange(K))):
        if i % _CHUNK == _CHUNK - 1:
            check()
        if members.size > 1:
            model.add_at_most_one(list(xs[members]))
    runs: list[tuple] = []
    for i, (mi, members) in enumerate(_groups(graph.mission[keep].astype(np.int64), np.arange(K))):
        if i % _CHUNK == _CHUNK - 1:
            check()
        seats, lo = int(m.seats[mi]), int(m.min_seats[mi])
        vs = list(xs[members])
        if st.staffed[mi]:  # a team pinned pairs started: min_seats more, 0 is no option
            model.add(LE.sum(vs) >= lo)
            if members.size > seats:
                model.add(LE.sum(vs) <= seats)
        elif lo > 1:
            if members.size < lo:
                for v in vs:
                    model.add(v == 0)
                continue
            y = model.new_bool_var(f"run{mi}")
            runs.append((y, members, lo))
            model.add(LE.sum(vs) >= lo).only_enforce_if(y)
            model.add(LE.sum(vs) == 0).only_enforce_if(~y)
            if members.size > seats:
                model.add(LE.sum(vs) <= seats)
        elif members.size > seats:
            model.add(LE.sum(vs) <= seats)
    cap(st.mc, lambda g: st.mc_cap[g])
    cap(st.cd, lambda g: st.cd_cap[g])
    cap(st.budget_emp, lambda c: st.budget[c], kh)
    for i in np.searchsorted(keep, st.forced_arc).tolist():
        model.add(x[i] == 1)
    return runs


def _add_hint(model: cp_model.CpModel, runs: list[tuple], keep: np.ndarray, n_arcs: int, arcs: np.ndarray) -> None:
    """Hint the solution ``arcs`` (arc indices of the graph of ``n_arcs`` arcs; those not kept are
    left out), completed: each team runs iff its hinted members reach its minimum.  Written into
    the proto from arrays (model variable ``i`` is arc ``keep[i]``)."""
    pos = np.full(n_arcs, -1, np.int64)
    pos[keep] = np.arange(keep.size)
    hint = np.zeros(keep.size, bool)
    hp = pos[np.asarray(arcs, np.int64)]
    hint[hp[hp >= 0]] = True
    sh = model.proto.solution_hint
    sh.vars.extend(range(keep.size))
    sh.values.extend(hint.astype(np.int64).tolist())
    for y, members, lo in runs:
        model.add_hint(y, bool(hint[members].sum() >= lo))


def _set_parameters(p, options: SolveOptions, n_vars: int, lns_only: bool, rest: float | None) -> None:
    """CP-SAT's parameters ``p`` for a model of ``n_vars`` arc Booleans, with ``rest`` seconds left
    of the time limit (``None``: none)."""
    if rest is not None:
        p.max_time_in_seconds = max(float(rest) - min(_END_SHARE * float(rest), _END_MAX), 0.0)
    p.random_seed = int(options.seed)
    p.num_workers = int(options.workers) if options.workers else 2
    p.interleave_search = True
    if options.hint is not None and options.time_limit is not None and n_vars >= _LNS_MIN_ARCS \
            and options.workers != 1:
        # a hinted model with a time budget: one full search (max_lp, whose cuts give the
        # tightest bound) and the other threads on large-neighbourhood search around the
        # incumbent; the interleaved portfolio runs little or no LNS on large parts
        # (docs/solvers.md).  Its threads race, so it is not deterministic: smaller models, which
        # CP-SAT often solves within the limit, runs without a time limit and single-threaded
        # runs (workers=1: auto's LNS windows) keep the interleaved (deterministic) search.
        p.interleave_search = False
        p.num_workers = max(p.num_workers, 3)
        p.num_full_subsolvers = 1
        p.subsolvers.append("max_lp")
    if lns_only and options.hint is not None and options.time_limit is not None:
        p.use_lns_only = True
    if n_vars > _BIG_MODEL and not lns_only:
        # on large parts presolve can take the whole budget: start from the hint at once (LNS,
        # by contrast, needs it)
        p.cp_model_presolve = False


def _result(solver: cp_model.CpSolver, model: cp_model.CpModel, status: cp_model.CpSolverStatus, interrupted: bool,
            keep: np.ndarray) -> RawResult:
    """The solver's answer as a :class:`RawResult` (arcs of the graph, status, CP-SAT's bound)."""
    if status == cp_model.MODEL_INVALID:
        raise SolverError(f"CP-SAT rejected the model: {model.validate()}")
    if status == cp_model.INFEASIBLE:
        return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None,
                         "CP-SAT proved that the hard rules (forced pairs, team minimums) cannot all hold")
    if status == cp_model.UNKNOWN:  # no solution: CP-SAT's bound is not meaningful then
        why = "was interrupted (Ctrl-C) before it found a solution" if interrupted \
            else "found no solution within the time limit"
        return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, f"CP-SAT {why}",
                         termination=Termination.INTERRUPTED if interrupted else Termination.TIME_LIMIT)
    bound = float(solver.best_objective_bound)
    values = np.array(solver.response_proto.solution, dtype=np.int64)[: keep.size]
    selected = keep[values > 0]
    st_out = Status.OPTIMAL if status == cp_model.OPTIMAL else Status.FEASIBLE
    msg = "" if st_out == Status.OPTIMAL else "time limit reached; best solution found so far"
    if interrupted and st_out != Status.OPTIMAL:
        msg = "interrupted (Ctrl-C): best solution found so far"
    return RawResult(selected, st_out, bound, msg, {"conflicts": solver.num_conflicts, "branches": solver.num_branches},
                     termination=Termination.OPTIMAL if st_out == Status.OPTIMAL
                     else Termination.INTERRUPTED if interrupted else Termination.TIME_LIMIT)


def _solve_interruptibly(solver: cp_model.CpSolver, model: cp_model.CpModel, deadline: float | None = None
                         ) -> tuple[cp_model.CpSolverStatus, bool]:
    """``solver.solve(model)``; Ctrl-C (SIGINT) stops the search like a time limit.

    In the main thread the search runs in a helper thread while the main
    thread waits, so that a SIGINT handler can call ``stop_search`` (the
    previous handler, if any, is still called: e.g. ``auto``'s), and so that
    a search still running past ``deadline`` (``time.monotonic()``) is told to
    stop (after :data:`_STOP_GRACE`).  Elsewhere
    CP-SAT's own SIGINT handling is used.  Returns the status and whether
    the search was interrupted.
    """
    if threading.current_thread() is not threading.main_thread():
        solver.parameters.catch_sigint_signal = True
        return solver.solve(model), False
    solver.parameters.catch_sigint_signal = False  # this handler does it
    box: dict = {}

    def run() -> None:
        try:
            box["status"] = solver.solve(model)
        except BaseException as exc:  # pragma: no cover - re-raised below
            box["error"] = exc

    with SigintFlag(solver.stop_search) as ctrl_c:
        worker = threading.Thread(target=run, name="cpsat-search", daemon=True)
        worker.start()
        told = False
        while worker.is_alive():
            worker.join(0.05)
            late = 0.0 if deadline is None else time.monotonic() - deadline
            if worker.is_alive() and late > _STOP_GRACE and not told:
                log.info("cpsat: the search is %.1f s past its time limit (presolve?): told to stop", late)
                solver.stop_search()
                told = True
    if "error" in box:
        raise box["error"]
    return box["status"], ctrl_c.sigint.is_set()
