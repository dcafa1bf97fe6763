"""The value rules of a ``koeeo-match/1+npz`` problem, checked on its arrays, vectorised.

:mod:`._npz` checks the structure (dtypes, dimensions, lengths, CSR pointers); here, once it is
sound, the rules of ``koeeo-match/1`` on the values, each issue naming the record and field.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from ..errors import HOURS_BUDGET_MAX, HOURS_MAX, WEIGHT_MAX, InvalidProblemError, Issue
from ..model import NO_DATE, Pairs, Problem

_DAY_MIN = _dt.date.min.toordinal() - _dt.date(1970, 1, 1).toordinal()  # 0001-01-01
_DAY_MAX = _dt.date.max.toordinal() - _dt.date(1970, 1, 1).toordinal()  # 9999-12-31
_DAY_RANGE = "day out of the supported range 0001-01-01 to 9999-12-31"


def _day_out(day: np.ndarray) -> np.ndarray:
    """Mask of the days given (not :data:`NO_DATE`) outside 0001-01-01..9999-12-31."""
    return (day != NO_DATE) & ((day < _DAY_MIN) | (day > _DAY_MAX))


def _bad(issues: list[Issue], kind: str, ids: Any, mask: np.ndarray, field: str, msg: str) -> None:
    """One issue per row of ``mask`` (the first 20, then a count of the others).

    ``ids`` is the table's ids, or a function from a row to the name of the record.
    """
    for i in np.flatnonzero(mask)[:20].tolist():
        issues.append(Issue(kind, ids(i) if callable(ids) else str(ids[i]), field, msg))
    if np.count_nonzero(mask) > 20:
        issues.append(Issue(kind, "", field, f"... and {np.count_nonzero(mask) - 20} more"))


def _check_ids(p: Problem) -> list[Issue]:
    """Ids of the four tables: non-empty and distinct (each repeat named)."""
    issues: list[Issue] = []
    for kind, t in (("employer", p.employers), ("association", p.associations), ("employee", p.employees),
                    ("mission", p.missions)):
        ids = t.ids.astype(str)
        _bad(issues, kind, np.array([f"#{i}" for i in range(len(ids))]), ids == "", "id", "expected a non-empty id")
        uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
        for j in np.flatnonzero(counts > 1)[:20].tolist():
            issues.append(Issue(kind, str(uniq[j]), "id", f"duplicate id ({counts[j]} records, first #{first[j]})"))
    return issues


def _check_people(p: Problem, issues: list[Issue]) -> None:
    """Locations of every table, then the employees' own rules."""
    e = p.employees
    for kind, t in (("employee", e), ("association", p.associations), ("mission", p.missions)):
        _bad(issues, kind, t.ids, ~np.isfinite(t.lat) | (np.abs(t.lat) > 90), "lat", "latitude out of range")
        _bad(issues, kind, t.ids, ~np.isfinite(t.lon) | (np.abs(t.lon) > 180), "lon", "longitude out of range")
    C, E, S = len(p.employers), len(e), len(p.skills)
    _bad(issues, "employee", e.ids, (e.employer < -1) | (e.employer >= C), "employer", "refers to an unknown employer")
    _bad(issues, "employee", e.ids, ~np.isfinite(e.max_km) | (e.max_km < 0), "max_km", "expected a finite number >= 0")
    _bad(issues, "employee", e.ids, ~np.isfinite(e.hours) | (e.hours < 0) | (e.hours > HOURS_MAX), "hours",
         f"expected a finite number in [0, {HOURS_MAX:,.0f}] (the supported range)")
    _bad(issues, "employee", e.ids, _weights_bad(e.pref_ptr, e.pref_weight), "prefers",
         f"weights must be finite numbers in [0, {WEIGHT_MAX:,.0f}] (the supported range)")
    _bad(issues, "employee", e.ids, _rows_bad(e.pref_ptr, (e.pref_sector < 0) | (e.pref_sector >= len(p.sectors))),
         "prefers", "unknown sector index")
    _check_days(issues, e.ids, e.avail_ptr, e.avail_start, e.avail_end)
    _bad(issues, "employee", e.ids, _day_out(e.joined), "joined", _DAY_RANGE)
    if e.skill_level.shape != (E, S) or np.any(e.skill_level > 3):
        issues.append(Issue("file", "", "employees.skill_level", f"expected an {E} x {S} matrix of levels 0-3"))


def _check_missions(p: Problem, issues: list[Issue]) -> None:
    m, A = p.missions, len(p.associations)

    def bad(mask: np.ndarray, field: str, msg: str) -> None:
        _bad(issues, "mission", m.ids, mask, field, msg)

    bad((m.association < 0) | (m.association >= A), "association", "refers to an unknown association")
    bad(m.seats < 1, "seats", "expected a whole number >= 1")
    bad((m.min_seats < 1) | (m.min_seats > m.seats), "min_seats", "expected 1 <= min_seats <= seats")
    bad(~np.isfinite(m.hours) | (m.hours <= 0) | (m.hours > HOURS_MAX), "hours",
        f"expected a finite number in (0, {HOURS_MAX:,.0f}] (the supported range)")
    bad(_day_out(m.date), "date", _DAY_RANGE)
    bad(_day_out(m.posted), "posted", _DAY_RANGE)
    bad((m.posted != NO_DATE) & (m.date != NO_DATE) & (m.posted > m.date), "posted",
        "posted after the mission's date")
    bad((m.max_per_employer < -1) | (m.max_per_employer == 0), "max_per_employer", "expected a whole number >= 1")
    if m.req_skill.size and (m.req_skill.min() < 0 or m.req_skill.max() >= len(p.skills)):
        issues.append(Issue("file", "", "missions.req_skill", "skill index out of range"))
    if m.req_level.size and (m.req_level.min() < 1 or m.req_level.max() > 3):
        issues.append(Issue("file", "", "missions.req_level", "levels must be 1-3"))


def _check_availability(p: Problem, issues: list[Issue]) -> None:
    """Windows: lengths agree with the pointer, each ends after it starts, sorted and merged per employee."""
    e = p.employees
    if not e.avail_start.size:
        return
    if e.avail_start.size != e.avail_ptr[-1] or e.avail_end.size != e.avail_start.size:
        issues.append(Issue("file", "", "employees.avail_start", "lengths disagree with avail_ptr"))
    elif np.any(e.avail_end < e.avail_start):
        issues.append(Issue("file", "", "employees.avail_end", "a window ends before it starts"))
    else:
        owner = np.repeat(np.arange(len(e)), np.diff(e.avail_ptr))
        same = owner[1:] == owner[:-1]
        if np.any(same & (e.avail_start[1:] <= e.avail_end[:-1] + 1)):
            issues.append(Issue("file", "", "employees.avail_start", "windows must be sorted and merged per employee"))


def _check_organisations(p: Problem, issues: list[Issue]) -> None:
    """Associations' and employers' values."""
    a, c = p.associations, p.employers
    _bad(issues, "association", a.ids, ~np.isfinite(a.priority) | (a.priority < 0) | (a.priority > WEIGHT_MAX),
         "priority", f"expected a finite number in [0, {WEIGHT_MAX:,.0f}] (the supported range)")
    _bad(issues, "association", a.ids, a.staff < -1, "staff", "expected a whole number >= 0 (or -1: unknown)")
    _bad(issues, "association", a.ids, (a.sector < -1) | (a.sector >= max(len(p.sectors), 1)), "sector",
         "unknown sector index")
    _bad(issues, "employer", c.ids, (c.size < -1) | (c.size == 0), "size",
         "expected a whole number >= 1 (or -1: unknown)")
    _bad(issues, "employer", c.ids, c.daily_cap < -1, "daily_cap", "expected a whole number >= 0")
    budget = c.hours_budget
    over = (budget > HOURS_BUDGET_MAX) & (budget != np.inf)
    _bad(issues, "employer", c.ids, np.isnan(budget) | (budget < 0) | over,
         "hours_budget", f"expected a number in [0, {HOURS_BUDGET_MAX:,.0f}] (the supported range), or inf: none")
    excl = (c.excl_assoc < 0) | (c.excl_assoc >= len(a))
    _bad(issues, "employer", c.ids, _rows_bad(c.excl_ptr, excl), "excluded_associations",
         "refers to an unknown association")


def _rows_bad(ptr: np.ndarray, bad_values: np.ndarray) -> np.ndarray:
    """Per row of a CSR pair: does any of its values fail (``bad_values``, one per value)?"""
    owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    out = np.zeros(len(ptr) - 1, bool)
    out[owner[bad_values]] = True
    return out


def _weights_bad(ptr: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _rows_bad(ptr, ~np.isfinite(w) | (w < 0) | (w > WEIGHT_MAX))


def _check_days(issues: list[Issue], ids: np.ndarray, ptr: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
    """Availability days within the dates a file can hold (0001-01-01 to 9999-12-31)."""
    out = (start < _DAY_MIN) | (start > _DAY_MAX) | (end < _DAY_MIN) | (end > _DAY_MAX)
    _bad(issues, "employee", ids, _rows_bad(ptr, out), "available",
         "day out of the supported range 0001-01-01 to 9999-12-31")


def _check_pairs(p: Problem, issues: list[Issue]) -> None:
    """Each pair list: known ids, no pair twice, no pair both forced and forbidden, finite scores."""
    E, M = len(p.employees), len(p.missions)
    keys = {}
    for name, kind in (("forced", "forced"), ("forbidden", "forbidden"), ("affinities", "affinity")):
        pr = getattr(p, name)
        known_e, known_m = (pr.employee >= 0) & (pr.employee < E), (pr.mission >= 0) & (pr.mission < M)

        def label(i: int, pr: Pairs = pr) -> str:
            e = repr(str(p.employees.ids[pr.employee[i]])) if 0 <= pr.employee[i] < E else f"index {pr.employee[i]}"
            m = repr(str(p.missions.ids[pr.mission[i]])) if 0 <= pr.mission[i] < M else f"index {pr.mission[i]}"
            return f"#{i} ({e}, {m})"

        _bad(issues, kind, label, ~known_e, "employee", "refers to an unknown employee")
        _bad(issues, kind, label, ~known_m, "mission", "refers to an unknown mission")
        ok = known_e & known_m
        key = np.where(ok, pr.employee.astype(np.int64) * max(M, 1) + pr.mission, -1 - np.arange(len(pr)))
        _, first = np.unique(key, return_index=True)
        again = np.ones(len(pr), bool)
        again[first] = False
        _bad(issues, kind, label, again, "", "pair listed twice")
        if kind == "affinity":
            _bad(issues, kind, label, ~np.isfinite(pr.score) | (np.abs(pr.score) > WEIGHT_MAX), "score",
                 f"expected a finite number in [-{WEIGHT_MAX:,.0f}, {WEIGHT_MAX:,.0f}] (the supported range)")
        keys[kind] = (key, label)
    both = np.isin(keys["forced"][0], keys["forbidden"][0])
    _bad(issues, "forced", keys["forced"][1], both, "", "the same pair is also forbidden")


def _validate(p: Problem, issues: list[Issue]) -> None:
    """Value checks, vectorised, after ``issues`` already found; every problem reported at once."""
    issues = issues + _check_ids(p)
    _check_people(p, issues)
    _check_missions(p, issues)
    _check_availability(p, issues)
    _check_organisations(p, issues)
    _check_pairs(p, issues)
    if issues:
        raise InvalidProblemError(issues)
