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

import numpy as np

from .errors import InvalidProblemError, Issue
from .model import Associations, Employees, Employers, Missions, Pairs, Problem

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
    arrays: dict[str, np.ndarray] = {"format": np.array(NPZ_FORMAT)}
    for name in _TABLES:
        table = getattr(problem, name)
        for f in fields(table):
            arrays[f"{name}.{f.name}"] = _to_disk(getattr(table, f.name))
    arrays["skills"] = np.array(problem.skills, dtype=str) if problem.skills else np.zeros(0, "U1")
    arrays["sectors"] = np.array(problem.sectors, dtype=str) if problem.sectors else np.zeros(0, "U1")
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def load_npz(path: str | os.PathLike[str]) -> Problem:
    issues: list[Issue] = []
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise InvalidProblemError([Issue("file", "", "", f"{os.fspath(path)} is not a readable .npz file: {err}")]) from None
    with data:
        if "format" not in data.files or str(data["format"]) != NPZ_FORMAT:
            raise InvalidProblemError([Issue("file", "", "format", f"expected {NPZ_FORMAT!r}")])
        tables = {}
        for name, cls in _TABLES.items():
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
            tables[name] = kw
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


def _validate(p: Problem) -> None:
    """Structural and value checks, vectorised; every problem reported at once."""
    issues: list[Issue] = []

    def bad(kind: str, ids: np.ndarray, mask: np.ndarray, field: str, msg: str) -> None:
        for i in np.flatnonzero(mask)[:20].tolist():
            issues.append(Issue(kind, str(ids[i]), field, msg))
        if np.count_nonzero(mask) > 20:
            issues.append(Issue(kind, "", field, f"... and {np.count_nonzero(mask) - 20} more"))

    E, M, A, C = len(p.employees), len(p.missions), len(p.associations), len(p.employers)
    e, m, a, c = p.employees, p.missions, p.associations, p.employers
    for kind, t in (("employee", e), ("mission", m), ("association", a), ("employer", c)):
        n = len(t.ids)
        for f in fields(t):
            v = getattr(t, f.name)
            if f.name.endswith("ptr"):
                if v.shape != (n + 1,) or (n and (v[0] != 0 or np.any(np.diff(v) < 0))):
                    issues.append(Issue("file", "", f"{kind}.{f.name}", f"not a CSR pointer of length {n + 1}"))
            elif v.ndim >= 1 and v.shape[0] != n and f.name in ("lat", "lon", "employer", "association", "hours", "seats", "staff", "size"):
                issues.append(Issue("file", "", f"{kind}.{f.name}", f"length {v.shape[0]}, expected {n}"))
        if len(set(t.ids.tolist())) != n:
            issues.append(Issue(kind, "", "id", "duplicate ids"))
    if issues:
        raise InvalidProblemError(issues)
    for kind, t in (("employee", e), ("association", a), ("mission", m)):
        bad(kind, t.ids, ~np.isfinite(t.lat) | (np.abs(t.lat) > 90), "lat", "latitude out of range")
        bad(kind, t.ids, ~np.isfinite(t.lon) | (np.abs(t.lon) > 180), "lon", "longitude out of range")
    bad("employee", e.ids, (e.employer < -1) | (e.employer >= C), "employer", "refers to an unknown employer")
    bad("employee", e.ids, ~np.isfinite(e.max_km) | (e.max_km < 0), "max_km", "expected a finite number >= 0")
    bad("employee", e.ids, ~np.isfinite(e.hours) | (e.hours < 0), "hours", "expected a finite number >= 0")
    if e.skill_level.shape != (E, len(p.skills)) or np.any(e.skill_level > 3):
        issues.append(Issue("file", "", "employees.skill_level", f"expected an {E} x {len(p.skills)} matrix of levels 0-3"))
    bad("mission", m.ids, (m.association < 0) | (m.association >= A), "association", "refers to an unknown association")
    bad("mission", m.ids, m.seats < 1, "seats", "expected a whole number >= 1")
    bad("mission", m.ids, (m.min_seats < 1) | (m.min_seats > m.seats), "min_seats", "expected 1 <= min_seats <= seats")
    bad("mission", m.ids, ~np.isfinite(m.hours) | (m.hours <= 0), "hours", "expected a finite number > 0")
    bad("mission", m.ids, (m.max_per_employer < -1) | (m.max_per_employer == 0), "max_per_employer", "expected a whole number >= 1")
    if m.req_skill.size and (m.req_skill.min() < 0 or m.req_skill.max() >= len(p.skills)):
        issues.append(Issue("file", "", "missions.req_skill", "skill index out of range"))
    if m.req_level.size and (m.req_level.min() < 1 or m.req_level.max() > 3):
        issues.append(Issue("file", "", "missions.req_level", "levels must be 1-3"))
    if e.avail_start.size:
        if e.avail_start.size != e.avail_ptr[-1] or e.avail_end.size != e.avail_start.size:
            issues.append(Issue("file", "", "employees.avail_start", "lengths disagree with avail_ptr"))
        elif np.any(e.avail_end < e.avail_start):
            issues.append(Issue("file", "", "employees.avail_end", "a window ends before it starts"))
        else:
            owner = np.repeat(np.arange(E), np.diff(e.avail_ptr))
            same = owner[1:] == owner[:-1]
            if np.any(same & (e.avail_start[1:] <= e.avail_end[:-1] + 1)):
                issues.append(Issue("file", "", "employees.avail_start", "windows must be sorted and merged per employee"))
    bad("association", a.ids, ~np.isfinite(a.priority) | (a.priority < 0), "priority", "expected a finite number >= 0")
    bad("association", a.ids, a.staff < -1, "staff", "expected a whole number >= 0 (or -1: unknown)")
    bad("association", a.ids, (a.sector < -1) | (a.sector >= max(len(p.sectors), 1)), "sector", "unknown sector index")
    bad("employer", c.ids, (c.size < -1) | (c.size == 0), "size", "expected a whole number >= 1 (or -1: unknown)")
    bad("employer", c.ids, c.daily_cap < -1, "daily_cap", "expected a whole number >= 0")
    bad("employer", c.ids, np.isnan(c.hours_budget) | (c.hours_budget < 0), "hours_budget", "expected a number >= 0")
    for name in ("forced", "forbidden", "affinities"):
        pr = getattr(p, name)
        if len(pr) and ((pr.employee.min() < 0) | (pr.employee.max() >= E) | (pr.mission.min() < 0) | (pr.mission.max() >= M)):
            issues.append(Issue("file", "", name, "pair refers to an unknown employee or mission"))
    if issues:
        raise InvalidProblemError(issues)
