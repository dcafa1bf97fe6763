"""A year replayed batch by batch: ``km.simulate`` (issue 16, DESIGN.md §8).

Employees join and associations post missions over the year; a platform
allocates at each batch date and a participation it confirms is never moved.
:func:`simulate` replays that on a problem with ``joined`` and ``posted`` days.

The batch dates run from the first day anything is known (the earliest
``joined`` or ``posted`` given; without any, the day before the first mission)
to the last day of the problem (its last ``joined``, ``posted`` or mission
date): every day (``daily``), every 7 days (``weekly``), or on the first day
and then the 1st of each month (``monthly``).  At a batch date ``t``:

1. participations cancelled by ``t`` are removed (see *Cancellations*);
2. the employees known by ``t`` (``joined <= t``, or not given) and the
   missions posted by ``t`` and still ahead (dated after ``t``, or undated),
   with what the pinned participations leave (seats, hours, days, employer
   caps and budgets: the reduced problem of :func:`koeeo_match.pinned.reduce`,
   the same path as ``km.solve(..., fixed=...)``), are allocated by
   ``km.solve`` with the chosen method and policy;
3. what it assigns is pinned from then on.

Every pair is therefore made at a date ``t`` with ``joined <= t``,
``posted <= t`` and ``t < date``: both sides were known before the mission.

**Deferred commitment** (``commit_days=d``, off by default).  Step 2 then
allocates everything known: the employees waiting and every open mission,
whatever the previous batches proposed; step 3 pins only the pairs that cannot
wait, those whose mission is dated no later than the next batch date (no later
batch could make them) or within ``d`` days of ``t`` (an undated mission counts
as dated the day after the year's last day: the hours are a yearly entitlement;
``hold_undated=False`` pins them at once instead).
The other pairs stay *tentative* (counted by the record's ``tentative``) and
the next batch re-optimises them with what it knows then; the last batch pins
what it allocates.  What is pinned never moves, and a record's
``assignments`` are exactly the pairs pinned in that batch.  Deciding late
lets later sign-ups and postings be used; the price is the wait (docs/year.md).
:func:`batch_known` gives the ceiling of any year at a batch frequency.

**Online fill** (``fill=True``, off by default).  A mission posted after a
batch and dated before the next one is lost to batches.  With the fill, the
replay also steps through the days between batches: on each, the missions open
and dated no later than the next batch date (after the last batch: every open
mission) are offered first come first served, as by ``method="fcfs"``, to the
employees known that day, and what is taken is pinned on the spot.  A day on
which the fill pins something gets a record of its own (``kind="fill"``), as does
the last day when cancellations came after the last record; the
batches' records have ``kind="batch"``.  Participations the fill pins are
confirmed on the day; an employee tentatively proposed elsewhere by a deferred
batch may be taken, the next batch re-optimises around it, but not one proposed for
a team (a mission with ``min_seats > 1``): taking one member could leave the team
short and idle the others, so the fill leaves the last batch's proposed teams whole.

**Online first-come-first-served** (``method="fcfs"``) is not a batch method:
it steps every day whatever ``batch`` says (``batch`` then only groups the
records).  On each day the employees who joined that day arrive, after those
still waiting, in the order of the day they joined (ties, and those known
from the start, in one order drawn from ``seed``); each in turn signs up for
the best open missions they are eligible for (by the policy's score) until
their hours are used, as on today's platforms.  Employees with hours left
stay subscribed: a mission posted later is offered to them the day it is
posted, in the same arrival order, first come first served.

**Cancellations** (``cancel_rate``): when a participation is made on day
``t``, it is drawn (from ``seed``) to be cancelled with probability
``cancel_rate``, on a day drawn uniformly in ``[t + 1, date - 1]`` (an
undated mission: up to the last day of the year); one made the day before
its date is never cancelled.  On that day the seat reopens, the employee gets
the hours back and is not offered the same mission again.  A team that a
cancellation leaves below its minimum is called off: its other volunteers
are released too (their seats and hours return) and the mission is open
again to a full team.  One drawn after the last batch still happens.

**Forced pairs** on individual missions hold their capacity from the first day
and are listed the day both ends are known; those on teams are held until a
step staffs the team around them (:class:`~koeeo_match.batching.ForcedTeams`);
none is cancelled.  A forced pair no year at the frequency can place is refused
up front; one the year still loses makes its status ``unknown`` (docs/year.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, cast

import numpy as np

from ._params import InstanceOf, Interval, Options, Satisfies, param_error, validate
from .batching import (
    BATCHES,
    OpenProblem,
    Replay,
    allocate,
    batch_dates,
    batch_known,
    due,
    expiring,
    open_problem,
    refuse_forced,
    refuse_forced_teams,
    span,
)
from .engine import METHODS, candidate_graph, solve, solve_graph
from .errors import UnsupportedError
from .model import NO_DATE, Problem, format_day
from .parallel import EXECUTOR_TEXT, is_executor
from .pinned import pairs_solution, pairs_value
from .policy import Policy
from .solve_params import resolve_policies
from .solvers import SolveOptions
from .status import Status, Termination
from .year_records import COLUMNS, CSV_COLUMNS, Batch, Year

__all__ = ["BATCHES", "Batch", "Year", "COLUMNS", "CSV_COLUMNS", "simulate", "batch_dates", "batch_known", "due",
           "expiring", "open_problem"]

log = logging.getLogger(__name__)


_PARAMS: dict[str, list] = {
    "problem": [InstanceOf(Problem, "a Problem")],
    "batch": [Options(BATCHES)],
    "method": [Options(METHODS)],
    "policy": [InstanceOf(Policy, "a Policy"), InstanceOf(str, "a preset name"), None],
    "seed": [Interval(Integral, 0, 2**31 - 1)],
    "cancel_rate": [Interval(Real, 0, 1, closed="both")],
    "time_limit": [Interval(Real, 0, None, closed="neither", noun="", unit="seconds"), None],
    "executor": [Satisfies(is_executor, EXECUTOR_TEXT), None],
    "progress": [Satisfies(callable, "a callable"), None],
    "commit_days": [Interval(Integral, 0, None, closed="left", noun="an integer", unit="days"), None],
    "fill": [InstanceOf(bool, "a bool")],
    "hold_undated": [InstanceOf(bool, "a bool")],
}


#: The most steps (batch dates; days with ``method="fcfs"`` or the fill) a replay takes: 273 years
#: of days.  Beyond, a day far from the others (0001-01-02 beside 2027) is almost surely an error.
MAX_STEPS = 100_000


_RANK = {Status.OPTIMAL: 0, Status.FEASIBLE: 1, Status.UNKNOWN: 2, Status.INFEASIBLE: 3}
_SOLVED = (Status.OPTIMAL, Status.FEASIBLE)
_NONE = np.zeros(0, np.int64)


def _solve_open(op: OpenProblem, method: str, policy: Policy, seed: int, time_limit: float | None,
                executor: Any, arrival_key: np.ndarray) -> tuple[np.ndarray, np.ndarray, Status]:
    """Allocate an open problem; the new pairs as indices into the whole problem, and the status."""
    p = op.problem
    if method == "fcfs":
        order = np.lexsort((arrival_key[op.employees],)).astype(np.int64)
        graph, t_cand = candidate_graph(p, policy)
        sol = solve_graph(p, graph, "fcfs", SolveOptions(seed=seed, arrival=order), candidate_seconds=t_cand)
    else:
        sol = solve(p, method=method, policy=policy, time_limit=time_limit, seed=seed, executor=executor)
    if sol.termination == Termination.INTERRUPTED:  # Ctrl-C ends the replay, not only this batch
        raise KeyboardInterrupt
    if sol.status not in _SOLVED or sol.employee is None or sol.mission is None:
        return _NONE, _NONE, sol.status
    return op.employees[np.asarray(sol.employee, np.int64)], op.missions[np.asarray(sol.mission, np.int64)], sol.status


def _ids(problem: Problem, e: np.ndarray, m: np.ndarray) -> tuple[tuple[str, str], ...]:
    order = np.lexsort((m, e))
    return tuple(zip(problem.employees.ids[e[order]].tolist(), problem.missions.ids[m[order]].tolist()))


def simulate(
    problem: Problem,
    batch: str = "weekly",
    method: str = "auto",
    policy: Policy | str | None = None,
    seed: int = 0,
    cancel_rate: float = 0.0,
    time_limit: float | None = None,
    executor: Any = None,
    *,
    progress: Callable[[str], None] | None = None,
    commit_days: int | None = None,
    hold_undated: bool = True,
    fill: bool = False,
) -> Year:
    """Replay the year: allocate at each batch date, pin what is assigned (see the module's docstring).

    Parameters
    ----------
    problem : Problem
        With ``joined`` and ``posted`` days (missing: known from the start), e.g.
        ``km.synth.city(..., year=True)``.
    batch : {"daily", "weekly", "monthly"}
        How often the platform allocates.
    method : {"auto", "flow", "cpsat", "greedy", "fcfs", "stable"}
        The method of each batch's ``km.solve``; ``"fcfs"`` replays online
        first-come-first-served day by day instead (module docstring).
    policy : Policy or str, optional
        The objective of each batch (default ``max_hours``).
    seed : int
        Seeds each batch's solve, the fcfs arrival ties and the cancellations.
    cancel_rate : float
        Share of participations cancelled before their date (0 to 1).
    time_limit : float, optional
        Seconds for each batch's solve.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Passed on to ``km.solve`` where it takes one (it runs a batch's parts); the
        result does not depend on it.
    progress : callable, optional
        Called with one line per batch (the same line is logged at INFO on the
        ``koeeo_match.simulate`` logger).
    commit_days : int, optional
        Deferred commitment (module docstring): each batch allocates everything known
        but pins only the pairs whose mission is dated before the next batch or within
        ``commit_days`` days; the rest is re-optimised by the next batch.  ``None`` (the
        default) pins every pair the batch makes, at once.  Not with ``method="fcfs"``
        (online sign-ups are confirmed on the spot).
    hold_undated : bool
        With ``commit_days``: whether pairs on undated missions are held too (``True``, the
        default: an undated mission counts as dated after the year's end, so with
        ``commit_days=0`` its pairs are confirmed by the last batch) or pinned by the batch
        that makes them (``False``).
    fill : bool
        Online fill between batches (module docstring): on the days between batches, the
        missions that would expire before the next batch are served first come first served.
        Not with ``method="fcfs"``, which serves every day already.

    Returns
    -------
    Year
        ``year.solution`` over the whole problem, ``year.batches``, ``year.table()``.

    Raises
    ------
    InvalidParameterError
        A parameter out of range (the message names it).
    ValueError
        The problem has no day at all (no ``joined``, ``posted`` or mission date).
    InvalidProblemError
        Forced pairs that break a rule alone, or on a team that no step before its date can staff
        (:func:`~koeeo_match.batching.refuse_forced_teams`); a first mission on 0001-01-01 with no
        day before it.

    Examples
    --------
    ``e1`` takes the nearer mission on the 1st; ``e2``, who joins on the 10th, the other:

    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0},
    ...                {"id": "e2", "lat": 45.0, "lon": 5.0, "joined": "2027-03-10"}],
    ...     missions=[{"id": "m1", "association": "a", "date": "2027-03-05", "posted": "2027-03-01"},
    ...               {"id": "m2", "association": "a", "date": "2027-03-20", "posted": "2027-03-01",
    ...                "lat": 45.05, "lon": 5.0}])
    >>> year = km.simulate(p, batch="weekly", method="flow")
    >>> [(b.date, b.assignments) for b in year.batches]
    [('2027-03-01', (('e1', 'm1'),)), ('2027-03-08', ()), ('2027-03-15', (('e2', 'm2'),))]
    >>> km.check(p, year.solution), year.solution.objective
    ([], 14.0)

    Deferred commitment: ``e1`` can do either mission, ``e2`` (who joins on the 10th) only
    ``m2``; committing at once gives ``m2`` to ``e1``, waiting lets each have one.

    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "skills": {"law": 1}},
    ...                {"id": "e2", "lat": 45.0, "lon": 5.0, "joined": "2027-03-10"}],
    ...     missions=[{"id": "m1", "association": "a", "date": "2027-03-20", "posted": "2027-03-09",
    ...                "skills": {"law": 1}},
    ...               {"id": "m2", "association": "a", "date": "2027-03-19", "posted": "2027-03-01"}])
    >>> km.simulate(p, method="flow").solution.objective
    7.0
    >>> year = km.simulate(p, method="flow", commit_days=0)
    >>> [(b.date, b.assignments, b.tentative) for b in year.batches]
    [('2027-03-01', (), 1), ('2027-03-08', (), 1), ('2027-03-15', (('e1', 'm1'), ('e2', 'm2')), 0)]
    """
    validate("simulate", _PARAMS, dict(problem=problem, batch=batch, method=method, policy=policy, seed=seed,
                                       cancel_rate=cancel_rate, time_limit=time_limit, executor=executor,
                                       progress=progress, commit_days=commit_days, hold_undated=hold_undated,
                                       fill=fill))
    if commit_days is not None and method == "fcfs":
        raise param_error("simulate", "commit_days", "must be None with method='fcfs' (online first-come-first-served "
                                                     f"confirms on sign-up). Got {commit_days!r} instead.")
    if not hold_undated and commit_days is None:
        raise param_error("simulate", "hold_undated", "must be True without commit_days (it says how deferred "
                                                      "commitment treats undated missions). Got False instead.")
    if fill and method == "fcfs":
        raise param_error("simulate", "fill", "must be False with method='fcfs' (online first-come-first-served "
                                              "already serves every day). Got True instead.")
    pol, _ = resolve_policies(policy, None, "simulate")
    refuse_forced(problem)
    online = method == "fcfs"
    fills = fill and not online
    teams = refuse_forced_teams(problem, batch, online or fills)  # the forced pairs on teams, until placed
    t_start = time.perf_counter()
    first, last = span(problem)
    reports = batch_dates(problem, batch)
    E, M = problem.employees, problem.missions
    joined = np.where(E.joined == NO_DATE, first, E.joined).astype(np.int64)
    # forced pairs hold their capacity from the first day; each is listed on the day both its ends are known
    fe, fm = problem.forced.employee.astype(np.int64), problem.forced.mission.astype(np.int64)
    fe, fm = fe[M.min_seats[fm] <= 1], fm[M.min_seats[fm] <= 1]  # on a team: forced by the batch that staffs it
    f_known = np.maximum(joined[fe], np.where(M.posted[fm] == NO_DATE, first, M.posted[fm]).astype(np.int64))
    steps = np.arange(first, last + 1, dtype=np.int64) if online or fills else reports
    if steps.size > MAX_STEPS:  # a day far from the others (year 1, year 9999) would replay millennia
        what = "days (served every day)" if online or fills else f"{batch} batch dates"
        raise param_error("simulate", "problem", f"spans {format_day(first)} to {format_day(last)}: {steps.size:,} "
                          f"{what}, each a step and a record, more than the {MAX_STEPS:,} a replay takes. Check "
                          "the earliest and latest 'joined', 'posted' and mission 'date'"
                          + ("." if online or fills else ", or batch less often."))
    if online and reports[-1] != last:
        reports = np.append(reports[reports <= last], last)
    forced_days = np.setdiff1d(f_known, steps)  # days between batches that only list forced pairs
    steps = np.union1d(steps, forced_days)
    is_report = np.isin(steps, reports)
    only_forced = np.isin(steps, forced_days)
    later = np.searchsorted(reports, steps, side="right")
    next_batch = [None if online or i == reports.size else int(reports[i]) for i in later.tolist()]
    tie = np.random.default_rng(seed).permutation(len(E))
    arrival_key = joined * max(len(E), 1) + tie  # by day joined, ties in a seeded order
    state = Replay(problem, seed, float(cancel_rate), last)
    f_listed = np.zeros(fe.size, bool)
    if fe.size:
        state.pin(fe, fm, int(steps[0]), forced=True)
    batches: list[Batch] = []
    made_e, made_m, gone_e, gone_m, gone_r = cast("tuple[list[np.ndarray], ...]", ([], [], [], [], []))
    seconds, worst, open_at_start, tentative = 0.0, None, None, 0
    proposed = np.zeros(0, np.int64)  # employees the last batch proposed (tentatively) for a team

    def record(day: int, kind: str) -> Batch:
        be, bm = (np.concatenate(made_e) if made_e else np.zeros(0, np.int64),
                  np.concatenate(made_m) if made_m else np.zeros(0, np.int64))
        ce, cm = (np.concatenate(gone_e), np.concatenate(gone_m)) if gone_e else (np.zeros(0, np.int64),) * 2
        rel = np.concatenate(gone_r) if gone_r else np.zeros(0, bool)
        known = (E.joined == NO_DATE) | (E.joined <= day)
        placed = np.bincount(state.e, minlength=len(E)) > np.bincount(fe[~f_listed], minlength=len(E))
        standing = float(M.hours[state.m].sum()) - float(M.hours[fm[~f_listed]].sum())  # forced: once listed
        rec = Batch(date=format_day(day), assignments=_ids(problem, be, bm), hours=float(M.hours[bm].sum()),
                    seconds=seconds, employees_waiting=int((known & ~placed).sum()),
                    missions_open=int(open_at_start or 0), cumulative_hours=standing,
                    cancelled=_ids(problem, ce, cm), released=_ids(problem, ce[rel], cm[rel]),
                    status="" if worst is None else worst.value,
                    tentative=tentative, kind=kind)
        line = (f"simulate {rec.date}{'' if kind == 'batch' else f' ({kind})'}: {len(rec.assignments)} new, "
                f"{rec.hours:g} h (total {rec.cumulative_hours:g} h), "
                f"{rec.missions_open} missions open, {rec.employees_waiting} employees waiting"
                + (f", {len(rec.cancelled)} cancelled" if rec.cancelled else "")
                + (f", {rec.tentative} tentative" if commit_days is not None else "") + f", {rec.seconds:.2f} s")
        log.info(line)
        if progress is not None:
            progress(line)
        return rec

    for day, report, forced_only, next_day in zip(steps.tolist(), is_report.tolist(), only_forced.tolist(),
                                                  next_batch):
        t0 = time.perf_counter()
        ge, gm, gr = state.cancel(day)
        gone_e.append(ge)
        gone_m.append(gm)
        gone_r.append(gr)
        now = ~f_listed & (f_known <= day)
        if now.any():
            made_e.append(fe[now])
            made_m.append(fm[now])
            f_listed |= now
        if forced_only:  # no batch today: the forced pairs known today are listed
            seconds += time.perf_counter() - t0
            batches.append(record(day, "forced"))
            made_e, made_m, gone_e, gone_m, gone_r = [], [], [], [], []
            seconds, worst, open_at_start, tentative = 0.0, None, None, 0
            continue
        filling = fills and not report
        if not filling:
            proposed = np.zeros(0, np.int64)

        def solve_open(op: OpenProblem, filling: bool = filling,
                       day: int = day) -> tuple[np.ndarray, np.ndarray, Status]:
            try:
                return _solve_open(op, "fcfs" if filling else method, pol, seed, time_limit, executor, arrival_key)
            except UnsupportedError as exc:
                if not filling:  # the batch that met the rule is named (a refusal up front would need the year)
                    raise UnsupportedError(f"the batch of {format_day(day)}: {exc}") from exc
                # a team started by a cancellation: left to the batch methods that complete it
                log.debug("simulate %s: fill skipped, a started team needs cpsat or auto", format_day(day))
                return _NONE, _NONE, Status.UNKNOWN

        next_step = (day + 1 if day < last else None) if online or fills else next_day
        n_open, ne, nm, status = allocate(problem, day, state, teams, (filling, next_day, proposed), next_step,
                                           solve_open)
        if open_at_start is None:
            open_at_start = n_open
        if status is not None:
            if commit_days is not None and not filling:
                due_now = due(M.date[nm], day, next_day, commit_days, last)
                if not hold_undated:
                    due_now |= M.date[nm] == NO_DATE
                tentative = int(nm.size - due_now.sum())
                proposed = ne[~due_now & (M.min_seats[nm] > 1)]  # held for their teams until the next batch
                ne, nm = ne[due_now], nm[due_now]
            state.pin(ne, nm, day)
            made_e.append(ne)
            made_m.append(nm)
            worst = status if worst is None or _RANK[status] > _RANK[worst] else worst
        seconds += time.perf_counter() - t0
        if filling and (now.any() or (made_m and made_m[-1].size)):
            report = True  # a fill day that pinned something gets a record of its own
        if day == steps[-1] and any(x.size for x in gone_e):
            report = True  # and the last day, when cancellations came after the last record: the records add up
        if not report:
            continue
        batches.append(record(day, "fill" if filling else "batch"))
        made_e, made_m, gone_e, gone_m, gone_r = [], [], [], [], []
        seconds, worst, open_at_start, tentative = 0.0, None, None, 0
    after = state.pending()
    if after is not None:  # cancellations drawn for days after the last batch: they happen, in a record of their own
        ge, gm, gr = state.cancel(after)
        gone_e, gone_m, gone_r, open_at_start = [ge], [gm], [gr], 0
        batches.append(record(after, "cancelled"))
    total = time.perf_counter() - t_start
    n_fill = sum(b.kind == "fill" for b in batches)
    head = f"{sum(b.kind == 'batch' for b in batches)} {batch} batches" + (f" and {n_fill} fill days" if n_fill else "")
    missing = teams.missing(state.e, state.m)
    if missing:  # the pairs pinned are no solution without the forced pairs: none is returned (as km.solve)
        log.warning("simulate: %s", missing)
        sol = pairs_solution(problem, _NONE, _NONE, pol, status=Status.UNKNOWN, objective=0.0, bound=None,
                             method=f"simulate:{batch}:{method}", message=f"{head}; {missing}", seconds=total,
                             extra={"batches": len(batches), "cancelled": int(state.ce.size)})
    else:
        sol = pairs_solution(problem, state.e, state.m, pol, status=Status.FEASIBLE,
                             objective=pairs_value(problem, pol, state.e, state.m), bound=None,
                             method=f"simulate:{batch}:{method}",
                             message=f"{head}; allocated batch by batch, not the hindsight optimum",
                             seconds=total, extra={"batches": len(batches), "cancelled": int(state.ce.size)})
    return Year(solution=sol, batches=batches, batch=batch, method=method, commit_days=commit_days, fill=fills)

