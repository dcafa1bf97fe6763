"""The reduced problem: what the pinned pairs leave (seats, hours, days, caps, budgets, teams)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..candidates import eligible_pairs
from ..errors import UnsupportedError
from ..model import NO_DATE, Employees, Pairs, Problem, Taken, hours_factor, restrict

__all__ = ["Reduced", "cut_days", "reduce", "started_team_pairs"]


@dataclass(frozen=True, eq=False)
class Reduced:
    """A reduced problem and the way back to the whole.

    Attributes
    ----------
    problem : Problem
        What the pinned pairs leave (with a :class:`~koeeo_match.model.Taken`).
    employees, missions : ndarray of int64
        Its employees and missions, as indices into the whole problem (ascending).
    fixed_employee, fixed_mission : ndarray of int64
        The pinned pairs, as indices into the whole problem.
    """

    problem: Problem
    employees: np.ndarray
    missions: np.ndarray
    fixed_employee: np.ndarray
    fixed_mission: np.ndarray

    @property
    def started(self) -> np.ndarray:
        """Indices (into the whole problem) of the teams the pinned pairs started below their minimum."""
        taken = self.problem.taken
        return self.missions[taken.staffed] if taken is not None else np.zeros(0, np.int64)


#: Availability bounds of an always-available employee given days off (``NO_DATE`` stays outside).
_FIRST_DAY, _LAST_DAY = int(NO_DATE) + 1, int(np.iinfo(np.int32).max) - 1


def cut_days(employees: Employees, owner: np.ndarray, day: np.ndarray) -> Employees:
    """The employees table with each ``day[i]`` cut out of employee ``owner[i]``'s availability.

    Every dated ``day[i]`` must lie inside one of the owner's intervals (the pairs were checked);
    undated ones (``NO_DATE``) are skipped.  Only the owners' intervals are rebuilt (sorted by
    start, empty pieces dropped; an always-available owner gets ``[first, day - 1]`` and
    ``[day + 1, last]``), the others are copied, so the cost is linear in the table plus
    ``n log n`` in the owners' intervals.  Cutting is associative: cutting ``a`` then ``b`` gives
    the table cutting both at once gives, which lets :func:`koeeo_match.simulate` keep the table
    from batch to batch and cut only the new pairs' days (``reduce(..., available=)``).  A table
    whose intervals are not sorted by start within an employee (or hold an empty one) is rebuilt
    whole, as if every employee were an owner.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "available": ["2027-03-01/2027-03-10"]},
    ...                {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m", "association": "a", "date": "2027-03-05"}])
    >>> d = p.missions.date[[0, 0]]
    >>> E = cut_days(p.employees, np.array([0, 1]), d)
    >>> [km.model.format_day(x) for x in E.avail_start[:2]], E.avail_ptr.tolist(), E.always_available.tolist()
    (['2027-03-01', '2027-03-06'], [0, 2, 4], [False, False])
    >>> once = cut_days(cut_days(p.employees, np.array([0]), d[:1]), np.array([1]), d[:1])
    >>> all(np.array_equal(getattr(once, f), getattr(E, f)) for f in ("avail_ptr", "avail_start", "avail_end"))
    True
    """
    E = employees
    dated = day != NO_DATE
    owner, day = owner[dated].astype(np.int64), day[dated].astype(np.int64)
    if not owner.size:
        return E
    n = len(E)
    old_ptr = E.avail_ptr.astype(np.int64)
    counts = np.diff(old_ptr)
    iown_all = np.repeat(np.arange(n, dtype=np.int64), counts)
    s_all, t_all = E.avail_start.astype(np.int64), E.avail_end.astype(np.int64)
    hit = np.zeros(n, bool)
    hit[owner] = True
    redo = hit
    if ((iown_all[1:] == iown_all[:-1]) & (s_all[1:] < s_all[:-1])).any() or (s_all > t_all).any():
        redo = np.ones(n, bool)  # not canonical: sorted whole, as if every employee were an owner
    sel = redo[iown_all]  # the intervals rebuilt
    whole = np.flatnonzero(E.always_available & hit)
    iown = np.concatenate([iown_all[sel], whole])
    s = np.concatenate([s_all[sel], np.full(whole.size, _FIRST_DAY, np.int64)])
    t = np.concatenate([t_all[sel], np.full(whole.size, _LAST_DAY, np.int64)])
    o = np.lexsort((s, iown))
    iown, s, t = iown[o], s[o], t[o]
    key = (iown << 33) + (s + 2**31)
    j = np.searchsorted(key, (owner << 33) + (day + 2**31), side="right") - 1  # the interval holding each day
    # the pieces: interval j's start and each of its cut days + 1 start one; each cut day - 1 and its end end one
    nj, nd = np.arange(s.size), j
    start_rank = np.lexsort((np.concatenate([s, day + 1]), np.concatenate([np.zeros(s.size), np.ones(day.size)]),
                             np.concatenate([nj, nd])))
    end_rank = np.lexsort((np.concatenate([day - 1, t]), np.concatenate([np.zeros(day.size), np.ones(t.size)]),
                           np.concatenate([nd, nj])))
    starts = np.concatenate([s, day + 1])[start_rank]
    ends = np.concatenate([day - 1, t])[end_rank]
    piece_owner = iown[np.concatenate([nj, nd])[start_rank]]
    ok = starts <= ends
    starts, ends, piece_owner = starts[ok], ends[ok], piece_owner[ok]  # grouped by owner, in order
    pieces = np.bincount(piece_owner, minlength=n)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.where(redo, pieces, counts), out=ptr[1:])
    out_s = np.empty(int(ptr[-1]), np.int32)
    out_t = np.empty(int(ptr[-1]), np.int32)
    kept = np.flatnonzero(~sel)  # the others' intervals, copied to their new place
    ko = iown_all[kept]
    at = ptr[ko] + (kept - old_ptr[ko])
    out_s[at], out_t[at] = s_all[kept], t_all[kept]
    first = np.zeros(n + 1, np.int64)
    np.cumsum(pieces, out=first[1:])
    at = ptr[piece_owner] + (np.arange(piece_owner.size) - first[piece_owner])
    out_s[at], out_t[at] = starts, ends
    return dataclasses.replace(E, always_available=E.always_available & ~hit, avail_ptr=ptr,
                               avail_start=out_s, avail_end=out_t)


def _counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``(a, b)`` and how often each occurs (int32 columns)."""
    if not a.size:
        z = np.zeros(0, np.int32)
        return z, z, z
    # a is an index (>= 0), b any int32 (an index or a day): one int64 key sorts as the rows do
    keys, cnt = np.unique((a.astype(np.int64) << 32) | (b.astype(np.int64) + 2**31), return_counts=True)
    return (keys >> 32).astype(np.int32), ((keys & 0xFFFFFFFF) - 2**31).astype(np.int32), cnt.astype(np.int32)


def _pair_keys(e: np.ndarray, m: np.ndarray, n_missions: int) -> np.ndarray:
    return e.astype(np.int64) * max(n_missions, 1) + m.astype(np.int64)


def _left(total: np.ndarray, used: np.ndarray, unit: int | None) -> np.ndarray:
    """Hours left of ``total`` once ``used`` is spent (at least 0): counted in the problem's hour
    ``unit`` when it has one (so that float noise does not leave 6.999999999 of 7 h), else the
    plain difference, which the solvers refuse as they refuse the problem's own hours (never
    rounded to a value the problem does not give: 6.9999999 h left is not 7 h).

    >>> _left(np.array([7.0, 14.0]), np.array([0.0, 3.5 + 3.3]), 10).tolist()
    [7.0, 7.2]
    """
    if unit is None:
        return np.maximum(total - used, 0.0)
    return np.maximum(np.round(total * unit) - np.round(used * unit), 0.0) / unit


def reduce(problem: Problem, employee: np.ndarray, mission: np.ndarray,
           forbid: tuple[np.ndarray, np.ndarray] | None = None, *, available: Employees | None = None,
           within: tuple[np.ndarray, np.ndarray] | None = None) -> Reduced:
    """The reduced problem: what the pinned pairs ``(employee, mission)`` (valid, distinct) leave.

    See the module's docstring for what is reduced and how.  ``forbid``: further
    ``(employee, mission)`` index pairs the reduced problem forbids (a participation
    cancelled is not offered again to the same employee, :func:`koeeo_match.simulate`).
    ``available``: the problem's employees table with the pinned pairs' dates already cut out
    (:func:`cut_days` of exactly these pairs, e.g. kept up to date pair by pair by a caller that
    pins in steps); default: cut here.  The result is the same either way.  ``within``: boolean
    masks of the whole problem's employees and missions; the reduced problem keeps only those
    (``restrict`` of the reduced problem to them, in one gather instead of two).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "hours": 14}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a", "seats": 3, "min_seats": 2, "date": "2027-03-01"},
    ...               {"id": "m2", "association": "a", "date": "2027-03-02"}])
    >>> from koeeo_match.pinned import fixed_pairs
    >>> r = reduce(p, *fixed_pairs(p, [("e1", "m1")]))
    >>> q = r.problem
    >>> q.employees.hours.tolist(), q.missions.seats.tolist(), q.missions.min_seats.tolist()
    ([7.0, 7.0], [2, 1], [1, 1])
    >>> q.taken.staffed.tolist()  # m1 needs one more volunteer: 0 more is no option
    [True, False]
    """
    if problem.taken is not None:
        raise UnsupportedError("fixed= on a reduced problem: pass the whole problem and every pinned pair at once.")
    E, M, ER = problem.employees, problem.missions, problem.employers
    e = np.asarray(employee, np.int64)
    m = np.asarray(mission, np.int64)
    h = M.hours[m]
    unit = hours_factor(np.concatenate([M.hours, E.hours, ER.hours_budget[np.isfinite(ER.hours_budget)]]))
    hours = _left(E.hours, np.bincount(e, weights=h, minlength=len(E)), unit)
    cut = cut_days(E, e, M.date[m]) if available is None else available
    employees = dataclasses.replace(cut, hours=hours)

    k = np.bincount(m, minlength=len(M)).astype(np.int32)
    seats = (M.seats - k).astype(np.int32)
    started = (k > 0) & (k < M.min_seats)
    min_seats = np.where(started, M.min_seats - k, np.where(k > 0, 1, M.min_seats))
    min_seats = np.minimum(min_seats, np.maximum(seats, 1)).astype(np.int32)
    missions = dataclasses.replace(M, seats=seats, min_seats=min_seats)

    emp = E.employer[e]
    has = emp >= 0
    spent = np.bincount(emp[has], weights=h[has], minlength=len(ER))
    fin = np.isfinite(ER.hours_budget)
    budget = np.where(fin, _left(np.where(fin, ER.hours_budget, 0.0), spent, unit), np.inf)
    employers = dataclasses.replace(ER, hours_budget=budget)

    mc = has & (M.max_per_employer[m] >= 0)
    d = M.date[m]
    daily = ER.daily_cap[np.maximum(emp, 0)] if len(ER) else np.full(e.size, -1)
    cd = has & (d != NO_DATE) & (daily >= 0)
    taken = Taken(*_counts(m[mc], emp[mc]), *_counts(emp[cd], d[cd]), started)

    fz, nm = problem.forced, len(M)
    still = np.ones(fz.employee.size, bool)
    if fz.employee.size and e.size:  # (no forced pairs: no keys to sort, a year's every batch)
        still = ~np.isin(_pair_keys(fz.employee, fz.mission, nm), _pair_keys(e, m, nm))
    forced = Pairs(fz.employee[still], fz.mission[still], fz.score[still])
    fb = problem.forbidden
    xe, xm = (e, m) if forbid is None else (np.concatenate([e, forbid[0]]), np.concatenate([m, forbid[1]]))
    forbidden = Pairs(np.concatenate([fb.employee, xe.astype(np.int32)]),
                      np.concatenate([fb.mission, xm.astype(np.int32)]), np.concatenate([fb.score, np.zeros(xe.size)]))
    whole = dataclasses.replace(problem, employees=employees, missions=missions, employers=employers, forced=forced,
                                forbidden=forbidden, taken=taken)
    keep_e = hours > 0
    keep_e[forced.employee] = True
    keep_m = seats > 0
    keep_m[forced.mission] = True
    if within is not None:
        keep_e &= within[0]
        keep_m &= within[1]
    emps, mis = np.flatnonzero(keep_e), np.flatnonzero(keep_m)
    return Reduced(restrict(whole, emps, mis), emps, mis, e, m)


def started_team_pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Every eligible (employee, mission) pair of the teams that pinned pairs started below their
    minimum (``problem.taken.staffed``) or that hold a forced pair (few): the arcs a route that
    draws only some arcs (the every-rule route at scale) must hold to complete them, whatever they
    score (an arc of score 0 prices out of no relaxation).

    >>> import koeeo_match as km
    >>> started_team_pairs(km.synth.city(employees=30, seed=0))
    (array([], dtype=int64), array([], dtype=int64))
    """
    started = np.zeros(0, np.int64) if problem.taken is None else np.flatnonzero(problem.taken.staffed)
    forced = problem.forced.mission.astype(np.int64)
    started = np.union1d(started, forced[problem.missions.min_seats[forced] > 1])
    if not started.size:  # none: no sub-problem of every employee (0.4 s at national scale)
        return started, started
    ea, ma, _ = eligible_pairs(restrict(problem, np.arange(problem.n_employees), started))
    return ea.astype(np.int64), started[ma]
