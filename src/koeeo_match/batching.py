"""The batch calendar of a year: when batches run, what each one sees and what it must pin.

Helpers of :func:`koeeo_match.simulate` (issue 16, DESIGN.md §8): :func:`batch_dates`, the dates
of a year's batches; :func:`open_problem`, what a batch allocates; :func:`batch_known`, the problem
as batches at a frequency know it (its optimum is the ceiling of any year at that frequency);
:func:`due`, which pairs a batch with deferred commitment pins; :func:`expiring`, what the online
fill serves between batches.  See :mod:`koeeo_match.simulate` for the replay itself.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._params import InstanceOf, Options, param_error, validate
from .candidates import eligible_pairs, in_sorted, pair_keys
from .check import check
from .errors import InvalidProblemError, Issue
from .model import FIRST_DAY, NO_DATE, Employees, Problem, format_day, restrict
from .pinned import cut_days, reduce
from .status import Status

__all__ = ["BATCHES", "ForcedTeams", "OpenProblem", "Replay", "allocate", "batch_dates", "batch_known", "due",
           "expiring", "last_looks", "open_problem", "refuse_forced", "refuse_forced_teams", "span"]

log = logging.getLogger("koeeo_match.simulate")  # the replay's messages, on the logger of km.simulate

#: The batch frequencies.
BATCHES = ("daily", "weekly", "monthly")

#: The statuses of a solve that found pairs to pin.
_SOLVED = (Status.OPTIMAL, Status.FEASIBLE)
_NONE = np.zeros(0, np.int64)
#: A cancellation day that never comes.
_NEVER = np.iinfo(np.int64).max
#: :func:`last_looks` of a mission that no step sees before its date.
NO_LOOK = np.iinfo(np.int64).min


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


def last_looks(problem: Problem, batch: str, every_day: bool) -> np.ndarray:
    """Per mission, the last day before its date on which a step of the year allocates (:data:`NO_LOOK`
    when none does): the last batch date before it, or with ``every_day`` (online ``fcfs``, or the
    online fill, which serves between batches what no later batch can) the day before it; an
    undated mission, the year's last step."""
    first, last = span(problem)
    steps = np.arange(first, last + 1, dtype=np.int64) if every_day else batch_dates(problem, batch)
    date = problem.missions.date.astype(np.int64)
    i = np.searchsorted(steps, np.where(date == NO_DATE, last + 1, date), side="left") - 1
    return np.where(i >= 0, steps[np.maximum(i, 0)], NO_LOOK)


def _known(days: np.ndarray, first: int) -> np.ndarray:
    return np.where(days == NO_DATE, first, days).astype(np.int64)


def refuse_forced_teams(problem: Problem, batch: str, every_day: bool) -> ForcedTeams:
    """Refuse a year in which a forced pair on a team mission (``min_seats > 1``) cannot be placed.

    Such a pair is placed by a step that staffs its team around it, before the mission's date
    (:class:`ForcedTeams`): the pair's two ends, and at least ``min_seats`` employees who can join
    the team (eligible, :func:`~koeeo_match.candidates.eligible_pairs`), must be known by
    :func:`last_looks`, the last step before that date.  Otherwise no year at this frequency holds
    the pair (with fewer than ``min_seats`` eligible employees at all, no solution does: ``km.solve``
    says ``infeasible``), and an :class:`~koeeo_match.InvalidProblemError` names each such pair.
    These are necessary conditions: a year that meets them and still cannot place a forced pair
    (its team's candidates taken by other forced pairs, a heuristic that fails to staff it) ends
    with status ``unknown`` (:func:`koeeo_match.simulate`).  Returns the :class:`ForcedTeams` the
    replay goes on with.

    Examples
    --------
    >>> import koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", **here}],
    ...     employees=[{"id": "e1", **here, "joined": "2027-02-20"}, {"id": "e2", **here, "joined": "2027-03-05"}],
    ...     missions=[{"id": "team", "association": "a", "seats": 2, "min_seats": 2, "date": "2027-03-20"}],
    ...     forced=[{"employee": "e1", "mission": "team"}])
    >>> teams = refuse_forced_teams(p, "weekly", False)   # the batch of 6 March knows both
    >>> try:
    ...     refuse_forced_teams(p, "monthly", False)
    ... except km.InvalidProblemError as err:
    ...     print(err.issues[0].id, "|", err.issues[0].message.split(",")[0])
    e1/team | [team_minimum] its team needs at least 2 volunteers
    """
    teams = ForcedTeams(problem)
    if not teams.e.size:
        return teams
    E, M = problem.employees, problem.missions
    look = last_looks(problem, batch, every_day)
    when = "the day" if every_day else f"the last {batch} batch"
    issues = []
    for k in np.flatnonzero(np.maximum(teams.known, teams.ready) > look[teams.m]).tolist():
        e, m = int(teams.e[k]), int(teams.m[k])
        at, need, d = int(look[m]), int(M.min_seats[m]), int(M.date[m])
        before = f"before the mission's date {format_day(d)}" if d != NO_DATE else "of the year (an undated mission)"
        days, known = teams.candidates[m], int(teams.known[k])
        if known > at:
            msg = (f"[known_in_time] the employee and the mission are both known from {format_day(known)}, "
                   + (f"after {format_day(at)}, {when}" if at != NO_LOOK else f"and no {batch} batch comes")
                   + f" {before}: no {batch} year staffs its team around the forced pair "
                   "(daily batches, or fill=True, can)")
        elif days.size < need:
            msg = (f"[team_minimum] its team needs at least {need} volunteers, and {days.size} employee(s) can "
                   "join it: no solution holds the forced pair (km.solve: infeasible)")
        else:
            msg = (f"[team_minimum] its team needs at least {need} volunteers, and only {int((days <= at).sum())} "
                   f"of the {days.size} employees who can join it are known by {format_day(at)}, {when} "
                   f"{before}: no {batch} year holds the forced pair (more frequent batches, or "
                   "fill=True, know more of them)")
        issues.append(Issue("forced", f"{E.ids[e]}/{M.ids[m]}", msg[1:msg.index("]")], msg))
    if issues:
        raise InvalidProblemError(issues)
    return teams


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
                 available: Employees | None = None, hold: tuple[np.ndarray, np.ndarray] | None = None,
                 leave_out: np.ndarray | None = None) -> OpenProblem:
    """The problem a batch on ``day`` allocates, given the pinned pairs ``(employee, mission)``.

    ``forbid`` and ``available`` are passed on to :func:`koeeo_match.pinned.reduce` (``available``:
    the employees table with the pinned pairs' dates already cut out, which the replay keeps from
    batch to batch; the result does not depend on it).  ``hold``: pairs (forced pairs on teams,
    :class:`ForcedTeams`) whose employees' hours, date, caps and budgets are taken as a pinned
    pair's, their missions left out; ``leave_out``: indices of further missions left out.

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
    if leave_out is not None:
        ahead[leave_out] = False
    if hold is not None and hold[0].size:
        he, hm = np.asarray(hold[0], np.int64), np.asarray(hold[1], np.int64)
        ahead[hm] = False
        employee, mission = np.concatenate([employee, he]), np.concatenate([mission, hm])
        available = None if available is None else cut_days(available, he, M.date[hm])
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


class ForcedTeams:
    """The forced pairs on team missions (``min_seats > 1``) during a replay, until placed.

    Pinned from the first day, such a pair would start its team below its minimum, which only
    ``cpsat`` and ``auto`` complete.  Instead, until a step places it, it is *held*: its employee's
    hours, date, caps and budget are taken as a pinned pair's and its mission is left out of the
    step (``open_problem(hold=)``), so that no step gives away what it needs.  A step in which both
    its ends are open and at least ``min_seats`` employees who can join the team are known
    (:meth:`open_on`) forces it, and so staffs the team around it.  A step that still cannot (the
    candidates taken, a heuristic) leaves it to a later step before the mission's date
    (:meth:`later`), held (:func:`allocate`); with no later step the pair is *lost* (:meth:`lose`)
    and the year cannot claim to be feasible (:meth:`missing`).
    """

    def __init__(self, problem: Problem) -> None:
        F, E, M = problem.forced, problem.employees, problem.missions
        team = M.min_seats[F.mission] > 1
        self.problem = problem
        self.e, self.m = F.employee[team].astype(np.int64), F.mission[team].astype(np.int64)
        self.keys = pair_keys(self.e, self.m, len(M))
        self.lost = np.zeros(self.e.size, bool)
        self.lost_on = np.full(self.e.size, NO_DATE, np.int64)  # the step that could not place a lost pair
        #: per team mission: the days its eligible employees are known from (both ends), ascending
        self.candidates: dict[int, np.ndarray] = {}
        self.known = self.ready = np.zeros(0, np.int64)
        if not self.e.size:
            return
        first, _ = span(problem)
        joined, posted = _known(E.joined, first), _known(M.posted, first)
        missions = np.unique(self.m)
        ea, ma, _ = eligible_pairs(restrict(problem, np.arange(len(E)), missions))
        days = np.maximum(joined[ea], posted[missions[ma]])
        order = np.lexsort((days, ma))
        ptr = np.searchsorted(ma[order], np.arange(missions.size + 1))
        self.candidates = {int(m): days[order[ptr[i]:ptr[i + 1]]] for i, m in enumerate(missions.tolist())}
        #: per pair: the day both its ends are known, and the first day ``min_seats`` candidates are
        self.known = np.maximum(joined[self.e], posted[self.m])
        self.ready = np.array([c[n - 1] if c.size >= n else _NEVER for c, n in
                               ((self.candidates[m], int(M.min_seats[m])) for m in self.m.tolist())], np.int64)

    def waiting(self, e: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Bool per pair: neither pinned (among the pairs ``(e, m)``) nor lost."""
        if not self.e.size:
            return self.lost
        on = np.isin(m, self.m)  # the pinned pairs on these teams only (a year pins many)
        return ~in_sorted(self.keys, np.sort(pair_keys(e[on], m[on], len(self.problem.missions)))) & ~self.lost

    def open_on(self, day: int, until: int | None = None, fill: bool = False,
                busy: np.ndarray | None = None) -> np.ndarray:
        """Bool per pair: both ends are open in a step on ``day`` (employee known, mission posted and
        ahead) and enough of its team's candidates are known to staff it (its ``ready`` day); with
        ``fill``, the mission also expires (dated no later than ``until``, any when ``until`` is None:
        :func:`expiring`) and the employee is not ``busy``."""
        d = self.problem.missions.date[self.m]
        out = (self.known <= day) & (self.ready <= day) & ((d == NO_DATE) | (d > day))
        if fill:
            if until is not None:
                out &= (d != NO_DATE) & (d <= until)
            if busy is not None and busy.size:
                out &= ~np.isin(self.e, busy)
        return out

    def later(self, next_step: int | None) -> np.ndarray:
        """Bool per pair: a step on ``next_step`` (None: no step) still comes before its mission's date."""
        d = self.problem.missions.date[self.m]
        if next_step is None:
            return np.zeros(self.e.size, bool)
        return (d == NO_DATE) | (d > next_step)

    def lose(self, which: np.ndarray, day: int) -> None:
        """Mark the pairs ``which`` lost on ``day``: no step before their date placed them."""
        self.lost_on[which & ~self.lost] = day
        self.lost |= which

    def missing(self, e: np.ndarray, m: np.ndarray) -> str:
        """What the year says when a forced pair of the problem (on a team or not) is not among the pairs
        ``(e, m)`` standing at its end: the first five named, with the step that lost each; "" if none."""
        F, nm = self.problem.forced, len(self.problem.missions)
        if not F.employee.size:
            return ""
        out = np.flatnonzero(~in_sorted(pair_keys(F.employee, F.mission, nm), np.sort(pair_keys(e, m, nm))))
        if not out.size:
            return ""
        lost = dict(zip(self.keys.tolist(), self.lost_on.tolist()))
        said = []
        for k in out[:5].tolist():
            ek, mk = int(F.employee[k]), int(F.mission[k])
            on, date = lost.get(ek * nm + mk, NO_DATE), int(self.problem.missions.date[mk])
            last = "the year's last step" if date == NO_DATE else f"the last step before its date {format_day(date)}"
            said.append(f"({self.problem.employees.ids[ek]!r}, {self.problem.missions.ids[mk]!r})"
                        + (f": its team could not be staffed by {format_day(on)}, {last}" if on != NO_DATE else ""))
        return (f"the year could not place {out.size} forced pair(s), " + "; ".join(said)
                + (f"; and {out.size - 5} more" if out.size > 5 else "")
                + ". Status unknown and no assignments: the pairs the batches pinned are in year.batches")


class Replay:
    """The state of a replay (:func:`koeeo_match.simulate`): the pinned pairs, their cancellation days,
    the pairs cancelled."""

    def __init__(self, problem: Problem, seed: int, cancel_rate: float, last: int):
        self.problem, self.cancel_rate, self.last = problem, cancel_rate, last
        self.e = np.zeros(0, np.int64)
        self.m = np.zeros(0, np.int64)
        self.cancel_day = np.zeros(0, np.int64)
        self.forced = np.zeros(0, bool)  # a forced pair: never cancelled, nor called off with its team
        F = problem.forced
        self.forced_keys = np.sort(pair_keys(F.employee, F.mission, len(problem.missions)))
        self.ce = np.zeros(0, np.int64)
        self.cm = np.zeros(0, np.int64)
        self.rng = np.random.default_rng([seed, 16])  # cancellations: a stream of their own
        self.available = problem.employees  # with the pinned pairs' dates cut out, pair by pair (cut_days)

    def pin(self, e: np.ndarray, m: np.ndarray, day: int, forced: bool = False) -> None:
        """Pin new pairs made on ``day``, drawing their cancellations (``forced`` pairs: none)."""
        when = np.full(e.size, _NEVER, np.int64)
        if forced:
            kept = np.ones(e.size, bool)
        else:  # a forced pair a batch made is kept too
            date = self.problem.missions.date[m].astype(np.int64)
            latest = np.where(date == NO_DATE, self.last, date - 1)
            u, v = self.rng.random(e.size), self.rng.random(e.size)
            room = latest - day  # days in [day + 1, latest]
            kept = in_sorted(pair_keys(e, m, len(self.problem.missions)), self.forced_keys)
            drawn = (u < self.cancel_rate) & (room > 0) & ~kept
            when[drawn] = day + 1 + np.floor(v[drawn] * room[drawn]).astype(np.int64)
        self.e, self.m = np.concatenate([self.e, e]), np.concatenate([self.m, m])
        self.cancel_day = np.concatenate([self.cancel_day, when])
        self.forced = np.concatenate([self.forced, kept])
        self.available = cut_days(self.available, e, self.problem.missions.date[m])

    def pending(self) -> int | None:
        """The day of the last cancellation still to come, None if none is."""
        later = self.cancel_day[self.cancel_day < _NEVER]
        return int(later.max()) if later.size else None

    def cancel(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Remove the participations cancelled by ``day`` (and the teams they leave short): (employees,
        missions, and a mask of those released with their team rather than cancelled themselves)."""
        cancelled = self.cancel_day <= day
        if not cancelled.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
        M = self.problem.missions
        left = np.bincount(self.m[~cancelled], minlength=len(M))
        short = (left > 0) & (left < M.min_seats)
        # a team holding a forced pair is never called off: a cancellation that would leave it short does not happen
        locked = np.zeros(len(M), bool)
        locked[self.m[self.forced]] = True
        spared = cancelled & (short & locked)[self.m]
        self.cancel_day[spared] = _NEVER
        cancelled &= ~spared
        short &= ~locked  # nor called off when short since its start (its mission not posted yet)
        gone = cancelled | short[self.m]
        ge, gm, released = self.e[gone], self.m[gone], ~cancelled[gone]
        # only a cancelled pair is never offered again: teammates released with their team may rejoin it
        self.ce = np.concatenate([self.ce, self.e[cancelled]])
        self.cm = np.concatenate([self.cm, self.m[cancelled]])
        self.e, self.m, self.cancel_day = self.e[~gone], self.m[~gone], self.cancel_day[~gone]
        self.forced = self.forced[~gone]
        self.available = cut_days(self.problem.employees, self.e, M.date[self.m])  # the days given back
        return ge, gm, released


def allocate(problem: Problem, day: int, state: Replay, teams: ForcedTeams, fill: tuple[bool, int | None, np.ndarray],
              next_step: int | None, solve_open: Callable[[OpenProblem], tuple[np.ndarray, np.ndarray, Status]]
              ) -> tuple[int, np.ndarray, np.ndarray, Status | None]:
    """One step on ``day``: (missions open, the new pairs as indices into the whole problem, the status;
    None when nothing was open).  ``fill``: (a fill day, its next batch date, the employees it leaves).

    The forced pairs on teams open in the step are forced, the others held (:class:`ForcedTeams`).  A
    step that cannot place them is tried again with those a step on ``next_step`` can still place held;
    if it still fails, those it cannot are lost and the step allocates the rest without them.
    """
    filling, next_day, proposed = fill
    wait = teams.waiting(state.e, state.m)
    now = wait & teams.open_on(day, next_day, filling, proposed)

    def attempt(forced: np.ndarray) -> tuple[OpenProblem, np.ndarray, np.ndarray, Status | None]:
        hold = wait & ~forced & ~teams.lost
        op = open_problem(problem, day, state.e, state.m, (state.ce, state.cm), available=state.available,
                          hold=(teams.e[hold], teams.m[hold]), leave_out=teams.m[teams.lost])
        if filling:  # between batches: first come first served on what expires before the next batch
            op = expiring(op, problem.missions.date, next_day, held=proposed)
        if not (op.problem.n_employees and op.problem.n_missions):
            return op, _NONE, _NONE, None
        return (op, *solve_open(op))

    op, ne, nm, status = attempt(now)
    if status is None or status in _SOLVED or not now.any():
        return op.problem.n_missions, ne, nm, status
    later = now & teams.later(next_step)
    if later.any():
        log.info("simulate %s: %s; %d forced pair(s) on teams left to a later step", format_day(day),
                 status.value, int(later.sum()))
        _, ne, nm, status = attempt(now & ~later)
    if status not in _SOLVED and (now & ~later).any():
        teams.lose(now & ~later, day)
        log.warning("simulate %s: %s; %d forced pair(s) on teams cannot be placed before their missions' dates",
                    format_day(day), status and status.value, int((now & ~later).sum()))
        _, ne, nm, status = attempt(np.zeros(now.size, bool))
    return op.problem.n_missions, ne, nm, status
