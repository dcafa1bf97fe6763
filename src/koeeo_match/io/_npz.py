"""Compact columnar problem files (``.npz``) for millions of rows.

Every array of a :class:`~koeeo_match.model.Problem` is stored under
``"<table>.<field>"`` (ids and vocabularies as fixed-width unicode, never as
Python objects), with ``format = "koeeo-match/1+npz"``.  Loading uses
``numpy.load(allow_pickle=False)``, so a file can never execute code, and
checks the structure (lengths, index ranges, the value rules of
``koeeo-match/1``), reporting every problem at once.
"""

from __future__ import annotations

import os
from dataclasses import fields
from typing import Any

import numpy as np

from ..errors import InvalidProblemError, Issue
from ..model import Associations, Employees, Employers, Missions, Pairs, Problem

__all__ = ["NPZ_FORMAT", "dump_npz", "load_npz"]

NPZ_FORMAT = "koeeo-match/1+npz"
_TABLES = {
    "employers": Employers,
    "associations": Associations,
    "employees": Employees,
    "missions": Missions,
    "forced": Pairs,
    "forbidden": Pairs,
    "affinities": Pairs,
}


# Arrays added after the first files were written: a file without them still loads,
# with the "unknown" value (n = the table's length).
_ADDED = {
    "associations.staff": lambda n: np.full(n, -1, np.int32),
    "employers.size": lambda n: np.full(n, -1, np.int32),
}


def _to_disk(a: np.ndarray) -> np.ndarray:
    if a.dtype == object:
        return a.astype(str) if a.size else np.zeros(0, "U1")
    return a


def dump_npz(problem: Problem, path: str | os.PathLike[str]) -> None:
    """Write every array of ``problem`` to a compressed ``.npz`` file (``koeeo-match/1+npz``).

    Examples
    --------
    >>> import koeeo_match as km, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
    >>> dump_npz(km.synth.city(employees=20, seed=1), path)
    >>> load_npz(path).n_employees
    20
    """
    arrays: dict[str, np.ndarray] = {"format": np.array(NPZ_FORMAT)}
    for name in _TABLES:
        table = getattr(problem, name)
        for f in fields(table):
            arrays[f"{name}.{f.name}"] = _to_disk(getattr(table, f.name))
    arrays["skills"] = np.array(problem.skills, dtype=str) if problem.skills else np.zeros(0, "U1")
    arrays["sectors"] = np.array(problem.sectors, dtype=str) if problem.sectors else np.zeros(0, "U1")
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]  # the stub reads **arrays as its own keywords


def _read_table(data: Any, name: str, cls: type, issues: list[Issue]) -> dict[str, np.ndarray]:
    """The arrays of one table, by field; a missing array is an issue (unless added later)."""
    kw = {}
    for f in fields(cls):
        key = f"{name}.{f.name}"
        if key not in data.files:
            if key in _ADDED and f"{name}.ids" in data.files:
                kw[f.name] = _ADDED[key](len(data[f"{name}.ids"]))
                continue
            issues.append(Issue("file", "", key, "array is missing"))
            continue
        a = data[key]
        if f.name == "ids":
            a = a.astype(object)
        kw[f.name] = a
    return kw


def load_npz(path: str | os.PathLike[str]) -> Problem:
    """Read a ``koeeo-match/1+npz`` file, checking its structure and values.

    Raises
    ------
    InvalidProblemError
        Listing every problem found (missing arrays, lengths, index ranges,
        the value rules of ``koeeo-match/1``).

    Examples
    --------
    >>> import koeeo_match as km, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
    >>> dump_npz(km.synth.city(employees=20, seed=1), path)
    >>> load_npz(path).n_employees
    20
    """
    issues: list[Issue] = []
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InvalidProblemError(
            [Issue("file", "", "", f"{os.fspath(path)} is not a readable .npz file: {err}")]
        ) from None
    with data:
        if "format" not in data.files or str(data["format"]) != NPZ_FORMAT:
            raise InvalidProblemError([Issue("file", "", "format", f"expected {NPZ_FORMAT!r}")])
        tables = {name: _read_table(data, name, cls, issues) for name, cls in _TABLES.items()}
        skills = tuple(data["skills"].tolist()) if "skills" in data.files else ()
        sectors = tuple(data["sectors"].tolist()) if "sectors" in data.files else ()
    if issues:
        raise InvalidProblemError(issues)
    try:
        built = {name: cls(**tables[name]) for name, cls in _TABLES.items()}
    except TypeError as err:
        raise InvalidProblemError([Issue("file", "", "", str(err))]) from None
    problem = Problem(skills=skills, sectors=sectors, **built)
    _validate(problem)
    return problem


_SIZED = ("lat", "lon", "employer", "association", "hours", "seats", "staff", "size")


def _bad(issues: list[Issue], kind: str, ids: np.ndarray, mask: np.ndarray, field: str, msg: str) -> None:
    """One issue per row of ``mask`` (the first 20, then a count of the others)."""
    for i in np.flatnonzero(mask)[:20].tolist():
        issues.append(Issue(kind, str(ids[i]), field, msg))
    if np.count_nonzero(mask) > 20:
        issues.append(Issue(kind, "", field, f"... and {np.count_nonzero(mask) - 20} more"))


def _check_shapes(p: Problem) -> list[Issue]:
    """CSR pointers, array lengths and distinct ids of the four tables."""
    issues: list[Issue] = []
    tables = (("employee", p.employees), ("mission", p.missions), ("association", p.associations),
              ("employer", p.employers))
    for kind, t in tables:
        n = len(t.ids)
        for f in fields(t):
            v = getattr(t, f.name)
            if f.name.endswith("ptr"):
                if v.shape != (n + 1,) or (n and (v[0] != 0 or np.any(np.diff(v) < 0))):
                    issues.append(Issue("file", "", f"{kind}.{f.name}", f"not a CSR pointer of length {n + 1}"))
            elif v.ndim >= 1 and v.shape[0] != n and f.name in _SIZED:
                issues.append(Issue("file", "", f"{kind}.{f.name}", f"length {v.shape[0]}, expected {n}"))
        if len(set(t.ids.tolist())) != n:
            issues.append(Issue(kind, "", "id", "duplicate ids"))
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
    _bad(issues, "employee", e.ids, ~np.isfinite(e.hours) | (e.hours < 0), "hours", "expected a finite number >= 0")
    if e.skill_level.shape != (E, S) or np.any(e.skill_level > 3):
        issues.append(Issue("file", "", "employees.skill_level", f"expected an {E} x {S} matrix of levels 0-3"))


def _check_missions(p: Problem, issues: list[Issue]) -> None:
    m, A = p.missions, len(p.associations)

    def bad(mask: np.ndarray, field: str, msg: str) -> None:
        _bad(issues, "mission", m.ids, mask, field, msg)

    bad((m.association < 0) | (m.association >= A), "association", "refers to an unknown association")
    bad(m.seats < 1, "seats", "expected a whole number >= 1")
    bad((m.min_seats < 1) | (m.min_seats > m.seats), "min_seats", "expected 1 <= min_seats <= seats")
    bad(~np.isfinite(m.hours) | (m.hours <= 0), "hours", "expected a finite number > 0")
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
    _bad(issues, "association", a.ids, ~np.isfinite(a.priority) | (a.priority < 0), "priority",
         "expected a finite number >= 0")
    _bad(issues, "association", a.ids, a.staff < -1, "staff", "expected a whole number >= 0 (or -1: unknown)")
    _bad(issues, "association", a.ids, (a.sector < -1) | (a.sector >= max(len(p.sectors), 1)), "sector",
         "unknown sector index")
    _bad(issues, "employer", c.ids, (c.size < -1) | (c.size == 0), "size",
         "expected a whole number >= 1 (or -1: unknown)")
    _bad(issues, "employer", c.ids, c.daily_cap < -1, "daily_cap", "expected a whole number >= 0")
    _bad(issues, "employer", c.ids, np.isnan(c.hours_budget) | (c.hours_budget < 0), "hours_budget",
         "expected a number >= 0")


def _check_pairs(p: Problem, issues: list[Issue]) -> None:
    E, M = len(p.employees), len(p.missions)
    for name in ("forced", "forbidden", "affinities"):
        pr = getattr(p, name)
        if len(pr) and (
            (pr.employee.min() < 0) | (pr.employee.max() >= E) | (pr.mission.min() < 0) | (pr.mission.max() >= M)
        ):
            issues.append(Issue("file", "", name, "pair refers to an unknown employee or mission"))


def _validate(p: Problem) -> None:
    """Structural and value checks, vectorised; every problem reported at once."""
    issues = _check_shapes(p)
    if issues:
        raise InvalidProblemError(issues)
    _check_people(p, issues)
    _check_missions(p, issues)
    _check_availability(p, issues)
    _check_organisations(p, issues)
    _check_pairs(p, issues)
    if issues:
        raise InvalidProblemError(issues)
