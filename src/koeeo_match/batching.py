"""The batch calendar of a year: when batches run, what each one sees and what it must pin.

Helpers of :func:`koeeo_match.simulate` (issue 16, DESIGN.md §8): :func:`batch_dates`, the dates
of a year's batches; :func:`open_problem`, what a batch allocates; :func:`batch_known`, the problem
as batches at a frequency know it (its optimum is the ceiling of any year at that frequency);
:func:`due`, which pairs a batch with deferred commitment pins; :func:`expiring`, what the online
fill serves between batches.  See :mod:`koeeo_match.simulate` for the replay itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._params import InstanceOf, Options, param_error, validate
from .check import check
from .errors import InvalidProblemError, Issue
from .model import FIRST_DAY, NO_DATE, Employees, Problem, format_day, restrict
from .pinned import reduce

__all__ = ["BATCHES", "OpenProblem", "batch_dates", "batch_known", "due", "expiring", "open_problem", "span",
           "refuse_forced"]

#: The batch frequencies.
BATCHES = ("daily", "weekly", "monthly")


def refuse_forced(problem: Problem) -> None:
    """Refuse a year whose forced pairs break a rule on their own: no year (and no solution) holds
    them.  An :class:`~koeeo_match.InvalidProblemError` lists every rule they break, as the
    independent checker (:func:`koeeo_match.check` on the forced pairs alone) names it; a team
    minimum is left to the batches, which complete it.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0, "hours": 3.5}],
    ...     missions=[{"id": "m", "association": "a", "hours": 7}],
    ...     forced=[{"employee": "e", "mission": "m"}])
    >>> try:
    ...     refuse_forced(p)
    ... except km.InvalidProblemError as err:
    ...     print(err.issues[0].field, "|", err.issues[0].message.split(":")[0])
    employee_hours | [employee_hours] 7 h assigned, entitlement 3.5 h
    """
    F = problem.forced
    if not F.employee.size:
        return
    pairs = list(zip(problem.employees.ids[F.employee].tolist(), problem.missions.ids[F.mission].tolist()))
    broken = [v for v in check(problem, pairs) if v.rule != "team_minimum"]
    if broken:
        raise InvalidProblemError([Issue("forced", "/".join(v.ids), v.rule, f"[{v.rule}] {v.message}: the forced "
                                         "pairs alone break it, so no year holds them") for v in broken])


def _given(days: np.ndarray) -> np.ndarray:
    return days[days != NO_DATE].astype(np.int64)


def span(problem: Problem, fn: str = "simulate") -> tuple[int, int]:
    """(first day, last day) of the year the problem describes; a problem without any day is a
    parameter error of ``fn``.

    Without ``joined`` or ``posted`` the year starts the day before the first mission: a first
    mission on 0001-01-01, the calendar's first day, leaves no such day, and is an
    :class:`~koeeo_match.InvalidProblemError` naming it.
    """
    known = np.concatenate([_given(problem.employees.joined), _given(problem.missions.posted)])
    dates = _given(problem.missions.date)
    if not known.size and not dates.size:
        raise param_error(fn, "problem", "needs days: it has no 'joined', 'posted' or mission 'date'; a problem "
                                         "without days is one snapshot, for km.solve.")
    first = int(known.min()) if known.size else int(dates.min()) - 1
    if first < FIRST_DAY:
        ids = problem.missions.ids[problem.missions.date == dates.min()].tolist()
        raise InvalidProblemError([Issue("mission", i, "date", "0001-01-01, the calendar's first day (or before): "
                                         "with no 'joined' or 'posted' given, the year starts the day before the first "
                                         "mission, and there is no such day (a 'joined' or 'posted' day would start "
                                         "the year instead)") for i in ids])
    last = int(np.concatenate([known, dates]).max())
    return first, max(first, last)


def batch_dates(problem: Problem, batch: str) -> np.ndarray:
    """The batch dates of the year (days since 1970-01-01, ascending; see the module's docstring).

    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0, "joined": "2027-01-13"}],
    ...     missions=[{"id": "m", "association": "a", "date": "2027-03-02"}])
    >>> [km.model.format_day(d) for d in batch_dates(p, "monthly")]
    ['2027-01-13', '2027-02-01', '2027-03-01']
    >>> len(batch_dates(p, "weekly")), len(batch_dates(p, "daily"))
    (7, 49)
    """
    first, last = span(problem)
    if batch == "daily":
        return np.arange(first, last + 1, dtype=np.int64)
    if batch == "weekly":
        return np.arange(first, last + 1, 7, dtype=np.int64)
    month0 = np.datetime64(format_day(first), "M")
    months = month0 + np.arange(1, (np.datetime64(format_day(last), "M") - month0).astype(int) + 1)
    firsts = months.astype("datetime64[D]").astype(np.int64)
    return np.concatenate([[first], firsts]).astype(np.int64)


def batch_known(problem: Problem, batch: str) -> Problem:
    """The problem as batches at ``batch`` know it: its optimum is the ceiling of any such year.

    Each ``joined`` and ``posted`` day moves up to the next batch date (a pair becomes eligible
    when ``max(joined, posted)`` rounded up is before the mission's date, i.e. exactly when some
    batch date ``b`` has ``max(joined, posted) <= b < date``), and the employees and missions no
    batch sees (known after the last batch date) are left out.  ``km.solve`` on it is the
    hindsight optimum restricted to the pairs some batch could make: what ``km.simulate`` at that
    frequency would reach knowing the whole year in advance.  The gap between it and the whole
    problem's optimum is the short-notice loss (missions posted after a batch and dated before
    the next); the gap between a simulated year and it is the loss of deciding batch by batch.
    A missing day becomes the first batch date (known from the start: seen by the first batch).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a", "date": "2027-03-05", "posted": "2027-03-01"},
    ...               {"id": "m2", "association": "a", "date": "2027-03-12", "posted": "2027-03-02"}])
    >>> q = batch_known(p, "weekly")   # batches on 1 and 8 March: m2 is seen on the 8th
    >>> [km.model.format_day(d) for d in q.missions.posted]
    ['2027-03-01', '2027-03-08']
    >>> km.solve(q).objective, km.solve(p).objective
    (7.0, 7.0)
    """
    validate("batch_known", {"problem": [InstanceOf(Problem, "a Problem")], "batch": [Options(BATCHES)]},
             dict(problem=problem, batch=batch))
    dates = batch_dates(problem, batch)
    E, M = problem.employees, problem.missions

    def up(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each day rounded up to a batch date (a missing day: the first), and whether a batch sees it."""
        d = np.where(days == NO_DATE, dates[0], days.astype(np.int64))
        i = np.searchsorted(dates, d, side="left")
        return dates[np.minimum(i, dates.size - 1)], i < dates.size

    joined, e_seen = up(E.joined)
    posted, m_seen = up(M.posted)
    late = (M.date != NO_DATE) & (posted > M.date)  # seen only after its date: open to no one
    posted = np.where(late, M.date, posted)
    q = dataclasses.replace(problem, employees=dataclasses.replace(E, joined=joined.astype(np.int32)),
                            missions=dataclasses.replace(M, posted=posted.astype(np.int32)))
    if e_seen.all() and m_seen.all():
        return q
    return restrict(q, np.flatnonzero(e_seen), np.flatnonzero(m_seen))


@dataclass(frozen=True, eq=False)
class OpenProblem:
    """What is open at a batch date: the reduced problem restricted to the employees known and the
    missions posted and ahead, with their indices in the whole problem."""

    problem: Problem
    employees: np.ndarray
    missions: np.ndarray


def open_problem(problem: Problem, day: int, employee: np.ndarray, mission: np.ndarray,
                 forbid: tuple[np.ndarray, np.ndarray] | None = None, *,
                 available: Employees | None = None) -> OpenProblem:
    """The problem a batch on ``day`` allocates, given the pinned pairs ``(employee, mission)``.

    ``forbid`` and ``available`` are passed on to :func:`koeeo_match.pinned.reduce` (``available``:
    the employees table with the pinned pairs' dates already cut out, which the replay keeps from
    batch to batch; the result does not depend on it).

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0,
    ...                 "joined": "2027-03-05"}],
    ...     missions=[{"id": "m1", "association": "a", "date": "2027-03-02"},
    ...               {"id": "m2", "association": "a", "date": "2027-03-09", "posted": "2027-03-03"}])
    >>> none = np.zeros(0, np.int64)
    >>> day = int(np.datetime64("2027-03-03", "D").astype(np.int64))
    >>> o = open_problem(p, day, none, none)
    >>> o.problem.employees.ids.tolist(), o.problem.missions.ids.tolist()
    (['e1'], ['m2'])
    """
    E, M = problem.employees, problem.missions
    known = (E.joined == NO_DATE) | (E.joined <= day)
    ahead = ((M.posted == NO_DATE) | (M.posted <= day)) & ((M.date == NO_DATE) | (M.date > day))
    red = reduce(problem, employee, mission, forbid, available=available, within=(known, ahead))
    full = red.problem.missions.seats > 0  # only a forced mission is kept without a seat left
    if full.all():
        return OpenProblem(red.problem, red.employees, red.missions)
    km_ = np.flatnonzero(full)
    return OpenProblem(restrict(red.problem, np.arange(red.problem.n_employees), km_), red.employees,
                       red.missions[km_])


def due(date: np.ndarray, day: int, next_day: int | None, commit_days: int, last: int) -> np.ndarray:
    """Which pairs a batch on ``day`` pins under deferred commitment, by their missions' ``date``.

    A pair is pinned when its mission is dated no later than the next batch date ``next_day``
    (no later batch could still make it: a batch on ``next_day`` only allocates missions dated
    after it) or within ``commit_days`` days of ``day``.  An undated mission counts as dated the
    day after ``last``, the last day of the year (the employees' hours are a yearly entitlement;
    every batch can still make it).  The last batch (``next_day=None``) pins every pair.

    Examples
    --------
    >>> import numpy as np
    >>> from koeeo_match.model import NO_DATE
    >>> dates = np.array([105, 107, 108, 130, NO_DATE])
    >>> due(dates, 100, 107, 0, 365).tolist(), due(dates, 100, 107, 30, 365).tolist()
    ([True, True, False, False, False], [True, True, True, True, False])
    >>> due(dates, 340, 347, 30, 365).tolist(), due(dates, 100, None, 0, 365).tolist()
    ([True, True, True, True, True], [True, True, True, True, True])
    """
    date = np.asarray(date, np.int64)
    if next_day is None:
        return np.ones(date.shape, bool)
    return np.where(date == NO_DATE, last + 1, date) <= max(next_day, day + commit_days)


def expiring(op: OpenProblem, date: np.ndarray, next_day: int | None,
             held: np.ndarray | None = None) -> OpenProblem:
    """``op`` restricted to the missions no batch after today can allocate: dated no later than the
    next batch date ``next_day`` (after the last batch, ``next_day=None``: every mission), and to
    the employees not in ``held`` (indices into the whole problem: with deferred commitment, those
    the last batch proposed for a team, see :func:`koeeo_match.simulate`).

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a", "date": "2027-03-05"},
    ...               {"id": "m2", "association": "a", "date": "2027-03-12"}, {"id": "m3", "association": "a"}])
    >>> none = np.zeros(0, np.int64)
    >>> op = open_problem(p, int(np.datetime64("2027-03-02", "D").astype(np.int64)), none, none)
    >>> nxt = int(np.datetime64("2027-03-08", "D").astype(np.int64))
    >>> expiring(op, p.missions.date, nxt).problem.missions.ids.tolist()
    ['m1']
    >>> expiring(op, p.missions.date, None).problem.missions.ids.tolist()
    ['m1', 'm2', 'm3']
    >>> expiring(op, p.missions.date, nxt, held=np.array([0])).problem.n_employees
    0
    """
    keep_e = np.arange(op.problem.n_employees)
    if held is not None and held.size:
        keep_e = np.flatnonzero(~np.isin(op.employees, held))
    if next_day is None:
        keep = np.arange(op.problem.n_missions)
    else:
        d = date[op.missions].astype(np.int64)
        keep = np.flatnonzero((d != NO_DATE) & (d <= next_day))
    if keep_e.size == op.problem.n_employees and keep.size == op.problem.n_missions:
        return op
    return OpenProblem(restrict(op.problem, keep_e, keep), op.employees[keep_e], op.missions[keep])
