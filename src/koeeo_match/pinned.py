"""Pinned assignments: ``km.solve(problem, ..., fixed=F)`` (DESIGN.md §8).

Pairs already made (confirmed participations) stay, and take their share of
every capacity.  A solve with ``fixed=`` is a chain of three steps, as a
reduction (cvxpy's habit): each records what the way back needs.

1. :func:`fixed_pairs`: the pairs, as indices, validated once by the
   independent checker (:func:`koeeo_match.check` on the pairs alone: every
   rule but the team minimum, which the solve completes, and ``forced``, which
   the solve adds); every broken rule is an :class:`~koeeo_match.InvalidProblemError`
   issue naming the pair(s), all at once.
2. :func:`reduce`: the *reduced problem*, what the pinned pairs leave, built
   with numpy: seats minus the pinned volunteers (a full mission leaves),
   entitlement hours minus the pinned hours (an employee with none left
   leaves), each employee's pinned dates cut out of its availability (one
   mission per date), employer hours budgets minus the pinned hours, the
   pinned pairs forbidden (an undated mission is not taken twice), forced pairs
   already pinned dropped, and, in :class:`~koeeo_match.model.Taken`, what no
   column can say: the places of each ``(mission, employer)`` and the
   employees of each ``(employer, date)`` already taken, and the teams started
   below their minimum, which must get ``min_seats - k`` more (their reduced
   ``min_seats``; ``0`` more is no option).  The pinned pairs are not forced
   arcs: every method, ``flow`` and the priced route included, solves the
   reduced problem as any other.  Only a started team needs a method that can
   complete it for sure (``cpsat``, ``auto``): the others are refused
   (:func:`refuse_unsupported`).
3. :func:`merge`: pinned + new, objective and bound the pinned pairs' value
   plus the reduced solve's, the reduced solve's status, and metrics computed
   on the whole problem by :func:`koeeo_match.metrics.compute`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import metrics as _metrics
from ._arrays import index_of
from ._geo import haversine_km
from .candidates import arc_terms
from .check import Violation, check
from .errors import InvalidProblemError, Issue, UnsupportedError
from .model import NO_DATE, Employees, Pairs, Problem, Taken, restrict
from .policy import Policy
from .solution import Solution, relative_gap
from .solvers import REGISTRY
from .status import Status

__all__ = ["Reduced", "cut_days", "fixed_pairs", "reduce", "refuse_unsupported", "merge", "pairs_solution",
           "pairs_value", "is_pairs"]

#: The problem field behind each rule of :func:`koeeo_match.check` (the ``field`` of an issue).
_FIELD = {"unknown_id": "id", "duplicate": "", "skill": "skills", "availability": "available",
          "distance": "max_km", "remote": "remote", "excluded": "excluded_associations", "forbidden": "forbidden",
          "employee_hours": "hours", "one_per_date": "date", "seats": "seats",
          "max_per_employer": "max_per_employer", "daily_cap": "daily_cap", "hours_budget": "hours_budget",
          "known_in_time": "posted"}
#: Rules a set of pinned pairs may break on its own: the solve completes the teams and adds the forced pairs.
_LATER = frozenset({"team_minimum", "forced"})
_SHOW = 5  # pairs named in one issue at most


def is_pairs(value: Any) -> bool:
    """Whether ``value`` may be a ``fixed=``: a Solution, or an iterable that is not a string or mapping.

    >>> is_pairs([("e1", "m1")]), is_pairs("e1"), is_pairs({"e1": "m1"})
    (True, False, False)
    """
    if hasattr(value, "employee_ids") and hasattr(value, "mission_ids"):
        return True
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


def _as_id_pairs(fixed: Any) -> tuple[np.ndarray, np.ndarray, list[Issue]]:
    """(employee ids, mission ids) of an iterable of pairs, as ``str`` arrays; an issue per
    malformed item."""
    es: list[str] = []
    ms: list[str] = []
    issues: list[Issue] = []
    for k, item in enumerate(fixed):
        # a row of a 2-column array of ids (``df[["employee", "mission"]].to_numpy()``) is a pair too
        row = item.tolist() if isinstance(item, np.ndarray) and item.ndim == 1 else item
        pair = tuple(row) if isinstance(row, (tuple, list)) else None
        if pair is None or len(pair) != 2 or not all(isinstance(x, str) for x in pair):
            issues.append(Issue("fixed", f"#{k}", "", f"must be an (employee id, mission id) pair of strings, "
                                                      f"got {item!r}"))
            continue
        es.append(str(pair[0]))
        ms.append(str(pair[1]))
    return np.array(es, dtype=str), np.array(ms, dtype=str), issues


@dataclass(frozen=True)
class _Pairs:
    """Pairs by id and by index, as :func:`koeeo_match.check` reads a solution (no status: nothing recorded)."""

    employee_ids: np.ndarray
    mission_ids: np.ndarray
    employee: np.ndarray
    mission: np.ndarray


def _trusted(problem: Problem, fixed: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A Solution's index arrays when they name its ids in ``problem`` (no lookup needed)."""
    e, m = getattr(fixed, "employee", None), getattr(fixed, "mission", None)
    if e is None or m is None or getattr(fixed, "problem", None) is not problem:
        return None
    return np.asarray(e, np.int64), np.asarray(m, np.int64)


def _named(pairs: list[tuple[str, str]]) -> str:
    head = ", ".join(f"{e}/{m}" for e, m in pairs[:_SHOW])
    return head + (f" (+{len(pairs) - _SHOW} more)" if len(pairs) > _SHOW else "")


def _repeated(values: np.ndarray) -> np.ndarray:
    """The values occurring more than once."""
    u, c = np.unique(values, return_counts=True)
    return u[c > 1]


def _pairs_of(problem: Problem, v: Violation, e: np.ndarray, m: np.ndarray) -> list[tuple[str, str]]:
    """The pinned pairs (indices ``e``, ``m``) behind a violation of a group rule."""
    E, M, ER = problem.employees, problem.missions, problem.employers
    emp = E.employer[e]
    of_employer = (emp >= 0) & (ER.ids[np.maximum(emp, 0)] == v.ids[-1]) if len(ER) else np.zeros(e.size, bool)
    d = M.date[m]
    if v.rule == "employee_hours":
        sel = E.ids[e] == v.ids[0]
    elif v.rule == "one_per_date":
        sel = (E.ids[e] == v.ids[0]) & (d != NO_DATE)
        sel &= np.isin(d, _repeated(d[sel]))
    elif v.rule == "seats":
        sel = M.ids[m] == v.ids[0]
    elif v.rule == "max_per_employer":
        sel = (M.ids[m] == v.ids[0]) & of_employer
    elif v.rule == "daily_cap":
        sel = of_employer & (d != NO_DATE)
        days, cnt = np.unique(d[sel], return_counts=True)
        sel &= np.isin(d, days[cnt > ER.daily_cap[np.flatnonzero(ER.ids == v.ids[0])[0]]])
    elif v.rule == "hours_budget":
        sel = of_employer
    else:  # a rule of one pair names it itself
        sel = np.zeros(e.size, bool)
    idx = np.flatnonzero(sel)
    return list(zip(E.ids[e[idx]].tolist(), M.ids[m[idx]].tolist()))


def fixed_pairs(problem: Problem, fixed: Any) -> tuple[np.ndarray, np.ndarray]:
    """The pinned pairs as dense index arrays (sorted by employee, then mission), validated.

    Parameters
    ----------
    problem : Problem
        The whole problem.
    fixed : Solution or iterable of (str, str)
        The pinned (employee id, mission id) pairs.

    Returns
    -------
    employee, mission : ndarray of int64

    Raises
    ------
    InvalidProblemError
        Every pair that breaks a rule, all at once: kind ``fixed``, id the pair(s)
        (``employee/mission``), field the problem field of the rule (``skills``,
        ``seats``, ``daily_cap``, ...) and the rule's name at the head of the message.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m", "association": "a", "skills": {"law": 2}}])
    >>> try:
    ...     fixed_pairs(p, [("e", "m"), ("e", "x")])
    ... except km.InvalidProblemError as err:
    ...     print([(i.id, i.field) for i in err.issues])
    [('e/x', 'mission'), ('e/m', 'skills')]
    """
    E, M = problem.employees, problem.missions
    trusted = _trusted(problem, fixed)
    issues: list[Issue] = []
    if trusted is not None:
        e, m = trusted
    else:
        if hasattr(fixed, "employee_ids") and hasattr(fixed, "mission_ids"):
            es, ms = np.asarray(fixed.employee_ids).astype(str), np.asarray(fixed.mission_ids).astype(str)
        else:
            es, ms, issues = _as_id_pairs(fixed)
        ei, mi = index_of(E.ids.astype(str), es), index_of(M.ids.astype(str), ms)
        for k in np.flatnonzero((ei < 0) | (mi < 0)).tolist():
            field = "employee" if ei[k] < 0 else "mission"
            issues.append(Issue("fixed", f"{es[k]}/{ms[k]}", field,
                                f"unknown {field} id {str((es if ei[k] < 0 else ms)[k])!r}"))
        known = (ei >= 0) & (mi >= 0)
        e, m = ei[known], mi[known]
    violations = check(problem, _Pairs(E.ids[e], M.ids[m], e, m))
    order = np.lexsort((m, e))
    e, m = e[order], m[order]
    first = np.ones(e.size, bool)
    first[1:] = (e[1:] != e[:-1]) | (m[1:] != m[:-1])
    e, m = e[first], m[first]
    for v in violations:
        if v.rule in _LATER:
            continue
        one = len(v.ids) == 2 and v.rule != "max_per_employer"
        who = _named([(v.ids[0], v.ids[1])] if one else _pairs_of(problem, v, e, m))
        field = _FIELD.get(v.rule, v.rule)
        if v.rule == "known_in_time" and v.message.startswith("employee joined"):
            field = "joined"  # the employee joined too late (the mission may also be posted too late)
        issues.append(Issue("fixed", who, field, f"[{v.rule}] {v.message}"))
    if issues:
        raise InvalidProblemError(issues)
    return e, m


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
    hours = np.round(np.maximum(E.hours - np.bincount(e, weights=h, minlength=len(E)), 0.0), 6)
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
    budget = np.where(fin, np.round(np.maximum(np.where(fin, ER.hours_budget, 0.0) - spent, 0.0), 6), np.inf)
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


def refuse_unsupported(reduced: Reduced, method: str, whole: Problem) -> None:
    """Refuse a method that cannot complete the teams the pinned pairs started below their minimum.

    Raises
    ------
    UnsupportedError
        Naming the team(s) and the methods that complete them.
    """
    started = reduced.started
    if not started.size or "staffed" in REGISTRY[method].supports:
        return
    M = whole.missions
    able = [f"{n!r}" for n, s in REGISTRY.items() if "staffed" in s.supports]
    k = np.bincount(reduced.fixed_mission, minlength=len(M))
    teams = ", ".join(f"{M.ids[j]!r} ({k[j]} of {M.min_seats[j]})" for j in started[:_SHOW].tolist())
    raise UnsupportedError(
        f"method={method!r} cannot complete the team(s) that the fixed pairs started below their minimum: "
        f"mission {teams}{' ...' if started.size > _SHOW else ''}; each must reach its min_seats, which "
        f"{method!r} may fail to do. Methods that complete them: {', '.join(sorted(able))}.")


def pairs_value(problem: Problem, policy: Policy, e: np.ndarray, m: np.ndarray) -> float:
    """The policy value of the pairs ``(e, m)`` (the primary terms of a lexicographic policy), as
    :func:`koeeo_match.engine.to_solution` counts an objective.

    >>> import numpy as np, koeeo_match as km
    >>> p = km.synth.city(employees=20, seed=0)
    >>> bool(pairs_value(p, km.Policy.preset("max_hours"), np.array([0]), np.array([0])) == p.missions.hours[0])
    True
    """
    if not e.size:
        return 0.0
    E, M = problem.employees, problem.missions
    km = haversine_km(E.lat[e], E.lon[e], M.lat[m], M.lon[m])
    weighed = [t for t, w in policy.weights().items() if w]
    terms = arc_terms(problem, e, m, km, weighed)
    return float(policy.score(terms, "primary" if policy.primary else "all").sum())


def pairs_solution(problem: Problem, e: np.ndarray, m: np.ndarray, policy: Policy, *, status: Status,
                   objective: float, bound: float | None, method: str, message: str, seconds: float,
                   extra: Mapping[str, Any] | None = None, termination: Any = None) -> Solution:
    """A Solution of the pairs ``(e, m)`` (indices into ``problem``, sorted by employee then
    mission here): metrics by :func:`koeeo_match.metrics.compute` on the whole problem, then
    the figures of ``extra`` it does not compute, then the solve's figures (objective, bound,
    gap, ``solve_seconds``)."""
    order = np.lexsort((m, e))
    e, m = np.asarray(e, np.int64)[order], np.asarray(m, np.int64)[order]
    met = _metrics.compute(problem, e, m)
    met.update({k: v for k, v in (extra or {}).items() if k not in met})  # the whole problem's figures win
    met.update(objective=objective, bound=bound, gap=relative_gap(status, objective, bound), solve_seconds=seconds)
    return Solution(status=status, objective=objective, bound=bound, employee_ids=problem.employees.ids[e],
                    mission_ids=problem.missions.ids[m], metrics=met, method=method, message=message,
                    employee=e.astype(np.int32), mission=m.astype(np.int32), problem=problem, policy=policy,
                    termination=termination)


def merge(problem: Problem, reduced: Reduced, inner: Solution, policy: Policy, *, seconds: float) -> Solution:
    """The whole problem's Solution: the pinned pairs plus ``inner`` (a solve of ``reduced.problem``).

    Objective and bound are the pinned pairs' value plus ``inner``'s; the status is ``inner``'s
    (an ``infeasible`` or ``unknown`` one has no assignments: nothing completes the pinned pairs);
    metrics are computed on the whole problem, and ``metrics["fixed"]`` counts the pinned pairs.
    """
    fe, fm = reduced.fixed_employee, reduced.fixed_mission
    fixed_value = pairs_value(problem, policy, fe, fm)
    ok = inner.status in (Status.OPTIMAL, Status.FEASIBLE)
    ie = np.asarray(inner.employee if inner.employee is not None else np.zeros(0, np.int64), np.int64)
    im = np.asarray(inner.mission if inner.mission is not None else np.zeros(0, np.int64), np.int64)
    if ok:
        e = np.concatenate([fe, reduced.employees[ie]])
        m = np.concatenate([fm, reduced.missions[im]])
    else:
        e = m = np.zeros(0, np.int64)
    objective = fixed_value + inner.objective if ok else 0.0
    bound = None if inner.bound is None else fixed_value + inner.bound
    message = f"{fe.size} fixed pair(s) kept" + (f"; {inner.message}" if inner.message else "")
    extra = dict(inner.metrics)
    graph_bound = extra.get("graph_bound")
    if graph_bound is not None:  # the bound on the candidate graph, and its gap, count the pinned pairs too
        graph_bound = fixed_value + graph_bound
        extra["graph_gap"] = max(graph_bound - objective, 0.0) / max(abs(graph_bound), 1.0)
    extra.update(fixed=int(fe.size), graph_bound=graph_bound)
    return pairs_solution(problem, e, m, policy, status=inner.status, objective=objective, bound=bound,
                          method=inner.method, message=message, seconds=seconds, extra=extra,
                          termination=inner.termination)
