"""Reading and writing: the ``koeeo-match/1`` problem format and solutions.

Parsing validates everything and raises one
:class:`~koeeo_match.errors.InvalidProblemError` listing every problem found,
each with its record kind, id and field.  Nothing is dropped or clamped.
Loading never executes code from a file: JSON is parsed with :mod:`json`,
and the compact ``.npz`` form with ``allow_pickle=False``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from typing import Any, Callable, Mapping

import numpy as np

from .errors import InvalidProblemError, Issue
from .model import NO_DATE, Associations, format_day, Employees, Employers, Missions, Pairs, Problem

__all__ = ["load", "dump", "problem_from_dict", "problem_to_dict", "records_from_frame"]

PROBLEM_FORMAT = "koeeo-match/1"
SOLUTION_FORMAT = "koeeo-match-solution/1"

DEFAULT_MAX_KM = 30.0
DEFAULT_HOURS = 7.0
_EPOCH = _dt.date(1970, 1, 1).toordinal()
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Bad(Exception):
    pass


# ----------------------------------------------------------------------------- field parsers
def _str(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise _Bad(f"expected a non-empty string, got {v!r}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Bad(f"expected true or false, got {v!r}")
    return v


_INT_MAX = 2**31 - 1


def _number(*, integer: bool = False, low: float | None = 0.0, strict: bool = False, high: float | None = None):
    if integer and high is None:
        high = _INT_MAX
    def parse(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _Bad(f"expected a number, got {v!r}")
        if not math.isfinite(v):
            raise _Bad(f"expected a finite number, got {v!r}")
        if integer and float(v) != int(v):
            raise _Bad(f"expected a whole number, got {v!r}")
        if low is not None and (v < low or (strict and v == low)):
            raise _Bad(f"expected a number {'>' if strict else '>='} {low:g}, got {v!r}")
        if high is not None and v > high:
            raise _Bad(f"expected a number <= {high:g}, got {v!r}")
        return int(v) if integer else float(v)

    return parse


def parse_day(text: Any) -> int:
    """Parse ``YYYY-MM-DD`` into days since 1970-01-01."""
    if not isinstance(text, str) or not _DATE_RE.match(text):
        raise _Bad(f"expected a date YYYY-MM-DD, got {text!r}")
    try:
        return _dt.date.fromisoformat(text).toordinal() - _EPOCH
    except ValueError:
        raise _Bad(f"not a valid calendar date: {text!r}") from None


def _available(v: Any) -> list[tuple[int, int]]:
    if not isinstance(v, list):
        raise _Bad(f"expected a list of dates or 'start/end' ranges, got {v!r}")
    out = []
    for item in v:
        if isinstance(item, str) and "/" in item:
            a, _, b = item.partition("/")
            s, e = parse_day(a), parse_day(b)
            if e < s:
                raise _Bad(f"range {item!r} ends before it starts")
            out.append((s, e))
        else:
            d = parse_day(item)
            out.append((d, d))
    return out


def _skills(v: Any) -> dict[str, int]:
    if not isinstance(v, dict):
        raise _Bad(f"expected an object {{skill: level}}, got {v!r}")
    out = {}
    for k, lvl in v.items():
        if not isinstance(k, str) or not k:
            raise _Bad(f"skill names must be non-empty strings, got {k!r}")
        if isinstance(lvl, bool) or not isinstance(lvl, int) or not 1 <= lvl <= 3:
            raise _Bad(f"level of skill {k!r} must be 1, 2 or 3, got {lvl!r}")
        out[k] = lvl
    return out


def _weights(v: Any) -> dict[str, float]:
    if not isinstance(v, dict):
        raise _Bad(f"expected an object {{sector: weight}}, got {v!r}")
    num = _number()
    out = {}
    for k, w in v.items():
        if not isinstance(k, str) or not k:
            raise _Bad(f"sector names must be non-empty strings, got {k!r}")
        try:
            out[k] = num(w)
        except _Bad as b:
            raise _Bad(f"weight of {k!r}: {b}") from None
    return out


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list):
        raise _Bad(f"expected a list of ids, got {v!r}")
    return [_str(x) for x in v]


_LAT = _number(low=-90.0, high=90.0)
_LON = _number(low=-180.0, high=180.0)

# kind -> {field: (parser, required)}
_SPEC: dict[str, dict[str, tuple[Callable[[Any], Any], bool]]] = {
    "employer": {
        "id": (_str, True),
        "daily_cap": (_number(integer=True), False),
        "hours_budget": (_number(), False),
        "excluded_associations": (_str_list, False),
        "size": (_number(integer=True, low=1), False),
    },
    "association": {
        "id": (_str, True),
        "lat": (_LAT, True),
        "lon": (_LON, True),
        "sector": (_str, False),
        "priority": (_number(), False),
        "staff": (_number(integer=True), False),
    },
    "employee": {
        "id": (_str, True),
        "employer": (_str, False),
        "lat": (_LAT, True),
        "lon": (_LON, True),
        "max_km": (_number(), False),
        "remote_ok": (_bool, False),
        "hours": (_number(), False),
        "skills": (_skills, False),
        "available": (_available, False),
        "prefers": (_weights, False),
    },
    "mission": {
        "id": (_str, True),
        "association": (_str, True),
        "skills": (_skills, False),
        "seats": (_number(integer=True, low=1), False),
        "min_seats": (_number(integer=True, low=1), False),
        "hours": (_number(strict=True), False),
        "date": (parse_day, False),
        "remote": (_bool, False),
        "max_per_employer": (_number(integer=True, low=1), False),
        "lat": (_LAT, False),
        "lon": (_LON, False),
    },
    "forced": {"employee": (_str, True), "mission": (_str, True)},
    "forbidden": {"employee": (_str, True), "mission": (_str, True)},
    "affinity": {
        "employee": (_str, True),
        "mission": (_str, True),
        "score": (_number(low=None), True),
    },
}
_LISTS = {
    "employers": "employer",
    "associations": "association",
    "employees": "employee",
    "missions": "mission",
    "forced": "forced",
    "forbidden": "forbidden",
    "affinities": "affinity",
}


def _parse_records(kind: str, records: Any, issues: list[Issue]) -> list[dict[str, Any]]:
    """Parse each record of one kind; every bad field becomes an Issue."""
    spec = _SPEC[kind]
    if not isinstance(records, list):
        issues.append(Issue("file", "", _plural(kind), f"expected a list, got {type(records).__name__}"))
        return []
    out = []
    for pos, rec in enumerate(records):
        rid = f"#{pos}"
        if not isinstance(rec, Mapping):
            issues.append(Issue(kind, rid, "", f"expected an object, got {rec!r}"))
            continue
        if isinstance(rec.get("id"), str) and rec.get("id"):
            rid = rec["id"]
        elif "employee" in spec:
            rid = f"#{pos} ({rec.get('employee')!r}, {rec.get('mission')!r})"
        parsed: dict[str, Any] = {"_pos": pos, "_rid": rid, "_given": set(rec)}
        ok = True
        for key in rec:
            if key not in spec:
                issues.append(Issue(kind, rid, str(key), f"unknown field; expected one of {', '.join(spec)}"))
                ok = False
        for key, (parse, required) in spec.items():
            if key not in rec or rec[key] is None:
                if required:
                    issues.append(Issue(kind, rid, key, "required field is missing"))
                    ok = False
                continue
            try:
                parsed[key] = parse(rec[key])
            except _Bad as b:
                issues.append(Issue(kind, rid, key, str(b)))
                ok = False
        parsed["_ok"] = ok
        out.append(parsed)
    return out


def _plural(kind: str) -> str:
    return {v: k for k, v in _LISTS.items()}[kind]


def _index(kind: str, recs: list[dict[str, Any]], issues: list[Issue]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, r in enumerate(recs):
        rid = r.get("id")
        if rid is None:
            continue
        if rid in index:
            issues.append(Issue(kind, rid, "id", f"duplicate id (records #{recs[index[rid]]['_pos']} and #{r['_pos']})"))
        else:
            index[rid] = i
    return index


def _csr(rows: list[list[Any]], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    ptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    flat = [x for r in rows for x in r]
    return ptr, np.asarray(flat, dtype=dtype).reshape(-1)


def _ids(recs: list[dict[str, Any]], key: str = "id") -> np.ndarray:
    arr = np.empty(len(recs), dtype=object)
    arr[:] = [r.get(key) for r in recs]
    return arr


def problem_from_dict(doc: Any) -> Problem:
    """Validate a ``koeeo-match/1`` document (already parsed JSON) into a :class:`Problem`.

    Raises
    ------
    InvalidProblemError
        Listing every problem in the document.
    """
    issues: list[Issue] = []
    if not isinstance(doc, Mapping):
        raise InvalidProblemError([Issue("file", "", "", f"expected a JSON object, got {type(doc).__name__}")])
    if doc.get("format") != PROBLEM_FORMAT:
        issues.append(Issue("file", "", "format", f"expected {PROBLEM_FORMAT!r}, got {doc.get('format')!r}"))
    for key in doc:
        if key != "format" and key not in _LISTS:
            issues.append(Issue("file", "", str(key), f"unknown top-level key; expected one of format, {', '.join(_LISTS)}"))
    for key in ("employees", "missions"):
        if key not in doc:
            issues.append(Issue("file", "", key, "required list is missing"))
    recs = {kind: _parse_records(kind, doc.get(plural, []), issues) for plural, kind in _LISTS.items()}

    idx = {k: _index(k, recs[k], issues) for k in ("employer", "association", "employee", "mission")}

    def ref(kind: str, r: dict[str, Any], key: str, target: str) -> int:
        name = r.get(key)
        if name is None:
            return -1
        j = idx[target].get(name)
        if j is None:
            issues.append(Issue(kind, r["_rid"], key, f"refers to unknown {target} {name!r}"))
            return -1
        return j

    # --- employers
    ers = recs["employer"]
    excl = []
    for r in ers:
        row = []
        for name in r.get("excluded_associations", []):
            j = idx["association"].get(name)
            if j is None:
                issues.append(Issue("employer", r["_rid"], "excluded_associations", f"refers to unknown association {name!r}"))
            else:
                row.append(j)
        excl.append(sorted(set(row)))
    excl_ptr, excl_assoc = _csr(excl, np.int32)
    employers = Employers(
        ids=_ids(ers),
        daily_cap=np.array([r.get("daily_cap", -1) for r in ers], np.int32),
        hours_budget=np.array([r.get("hours_budget", math.inf) for r in ers], np.float64),
        excl_ptr=excl_ptr,
        excl_assoc=excl_assoc,
        size=np.array([r.get("size", -1) for r in ers], np.int32),
    )

    # --- associations, sectors
    ass = recs["association"]
    sectors: dict[str, int] = {}
    for r in ass:
        if "sector" in r:
            sectors.setdefault(r["sector"], len(sectors))
    for r in recs["employee"]:
        for s in r.get("prefers", {}):
            sectors.setdefault(s, len(sectors))
    associations = Associations(
        ids=_ids(ass),
        lat=np.array([r.get("lat", 0.0) for r in ass], np.float64),
        lon=np.array([r.get("lon", 0.0) for r in ass], np.float64),
        sector=np.array([sectors[r["sector"]] if "sector" in r else -1 for r in ass], np.int32),
        priority=np.array([r.get("priority", 1.0) for r in ass], np.float64),
        staff=np.array([r.get("staff", -1) for r in ass], np.int32),
    )

    # --- skills vocabulary (sorted for determinism across input orders)
    skill_names = sorted({s for k in ("employee", "mission") for r in recs[k] for s in r.get("skills", {})})
    skills = {s: j for j, s in enumerate(skill_names)}

    # --- employees
    ees = recs["employee"]
    level = np.zeros((len(ees), len(skills)), np.uint8)
    avail_rows, pref_rows, pref_w = [], [], []
    for i, r in enumerate(ees):
        for s, lv in r.get("skills", {}).items():
            level[i, skills[s]] = lv
        avail_rows.append(_merge(r.get("available", [])))
        prefs = sorted((sectors[s], w) for s, w in r.get("prefers", {}).items())
        pref_rows.append([s for s, _ in prefs])
        pref_w.append([w for _, w in prefs])
    avail_ptr, avail_flat = _csr(avail_rows, np.int32)
    avail_flat = avail_flat.reshape(-1, 2) if avail_flat.size else np.zeros((0, 2), np.int32)
    pref_ptr, pref_sector = _csr(pref_rows, np.int32)
    _, pref_weight = _csr(pref_w, np.float64)
    employees = Employees(
        ids=_ids(ees),
        employer=np.array([ref("employee", r, "employer", "employer") for r in ees], np.int32),
        lat=np.array([r.get("lat", 0.0) for r in ees], np.float64),
        lon=np.array([r.get("lon", 0.0) for r in ees], np.float64),
        max_km=np.array([r.get("max_km", DEFAULT_MAX_KM) for r in ees], np.float64),
        remote_ok=np.array([r.get("remote_ok", False) for r in ees], bool),
        hours=np.array([r.get("hours", DEFAULT_HOURS) for r in ees], np.float64),
        skill_level=level,
        always_available=np.array(["available" not in r for r in ees], bool),
        avail_ptr=avail_ptr,
        avail_start=np.ascontiguousarray(avail_flat[:, 0], np.int32),
        avail_end=np.ascontiguousarray(avail_flat[:, 1], np.int32),
        pref_ptr=pref_ptr,
        pref_sector=pref_sector,
        pref_weight=pref_weight,
    )

    # --- missions
    mis = recs["mission"]
    a_of = np.array([ref("mission", r, "association", "association") for r in mis], np.int32)
    req_rows, req_lv = [], []
    mlat, mlon = np.empty(len(mis)), np.empty(len(mis))
    for i, r in enumerate(mis):
        req = sorted((skills[s], lv) for s, lv in r.get("skills", {}).items())
        req_rows.append([s for s, _ in req])
        req_lv.append([lv for _, lv in req])
        seats, mins = r.get("seats", 1), r.get("min_seats", 1)
        seats_valid = "seats" in r or "seats" not in r["_given"]
        if seats_valid and "min_seats" in r and mins > seats:
            default = "" if "seats" in r else " (the default)"
            issues.append(Issue("mission", r["_rid"], "min_seats", f"min_seats {mins} exceeds seats {seats}{default}"))
        if ("lat" in r) != ("lon" in r):
            issues.append(Issue("mission", r["_rid"], "lon" if "lat" in r else "lat", "give both lat and lon, or neither"))
        if "lat" in r and "lon" in r:
            mlat[i], mlon[i] = r["lat"], r["lon"]
        elif a_of[i] >= 0:
            mlat[i], mlon[i] = associations.lat[a_of[i]], associations.lon[a_of[i]]
        else:
            mlat[i], mlon[i] = 0.0, 0.0
    req_ptr, req_skill = _csr(req_rows, np.int32)
    _, req_level = _csr(req_lv, np.uint8)
    missions = Missions(
        ids=_ids(mis),
        association=a_of,
        lat=mlat,
        lon=mlon,
        req_ptr=req_ptr,
        req_skill=req_skill,
        req_level=req_level,
        seats=np.array([r.get("seats", 1) for r in mis], np.int32),
        min_seats=np.array([r.get("min_seats", 1) for r in mis], np.int32),
        hours=np.array([r.get("hours", DEFAULT_HOURS) for r in mis], np.float64),
        date=np.array([r.get("date", NO_DATE) for r in mis], np.int32),
        remote=np.array([r.get("remote", False) for r in mis], bool),
        max_per_employer=np.array([r.get("max_per_employer", -1) for r in mis], np.int32),
    )

    # --- pair lists
    pairs = {}
    seen: dict[str, dict[tuple[int, int], str]] = {}
    for kind in ("forced", "forbidden", "affinity"):
        es, ms, sc = [], [], []
        seen[kind] = {}
        for r in recs[kind]:
            e = ref(kind, r, "employee", "employee")
            m = ref(kind, r, "mission", "mission")
            if e < 0 or m < 0:
                continue
            if (e, m) in seen[kind]:
                issues.append(Issue(kind, r["_rid"], "", f"pair listed twice (also {seen[kind][(e, m)]})"))
                continue
            seen[kind][(e, m)] = r["_rid"]
            es.append(e), ms.append(m), sc.append(r.get("score", 0.0))
        pairs[kind] = Pairs(np.array(es, np.int32), np.array(ms, np.int32), np.array(sc, np.float64))
    for pair, rid in seen["forced"].items():
        if pair in seen["forbidden"]:
            issues.append(Issue("forced", rid, "", f"the same pair is also forbidden ({seen['forbidden'][pair]})"))

    if issues:
        raise InvalidProblemError(issues)
    return Problem(
        employers=employers,
        associations=associations,
        employees=employees,
        missions=missions,
        skills=tuple(skill_names),
        sectors=tuple(sectors),
        forced=pairs["forced"],
        forbidden=pairs["forbidden"],
        affinities=pairs["affinity"],
    )


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or adjacent inclusive day intervals."""
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


# ----------------------------------------------------------------------------- back to records
def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The ``koeeo-match/1`` document of a problem (inverse of :func:`problem_from_dict`)."""
    p = problem
    er, a, e, m = p.employers, p.associations, p.employees, p.missions
    out: dict[str, Any] = {"format": PROBLEM_FORMAT}
    out["employers"] = []
    for i in range(len(er)):
        r: dict[str, Any] = {"id": er.ids[i]}
        if er.daily_cap[i] >= 0:
            r["daily_cap"] = int(er.daily_cap[i])
        if math.isfinite(er.hours_budget[i]):
            r["hours_budget"] = float(er.hours_budget[i])
        ex = er.excl_assoc[er.excl_ptr[i] : er.excl_ptr[i + 1]]
        if len(ex):
            r["excluded_associations"] = [a.ids[j] for j in ex]
        if er.size[i] >= 0:
            r["size"] = int(er.size[i])
        out["employers"].append(r)
    out["associations"] = []
    for i in range(len(a)):
        r = {"id": a.ids[i], "lat": float(a.lat[i]), "lon": float(a.lon[i])}
        if a.sector[i] >= 0:
            r["sector"] = p.sectors[a.sector[i]]
        if a.priority[i] != 1.0:
            r["priority"] = float(a.priority[i])
        if a.staff[i] >= 0:
            r["staff"] = int(a.staff[i])
        out["associations"].append(r)
    out["employees"] = []
    for i in range(len(e)):
        r = {"id": e.ids[i]}
        if e.employer[i] >= 0:
            r["employer"] = er.ids[e.employer[i]]
        r.update(lat=float(e.lat[i]), lon=float(e.lon[i]), max_km=float(e.max_km[i]))
        if e.remote_ok[i]:
            r["remote_ok"] = True
        r["hours"] = float(e.hours[i])
        lv = e.skill_level[i]
        r["skills"] = {p.skills[j]: int(lv[j]) for j in sorted(np.flatnonzero(lv), key=lambda j: p.skills[j])}
        if not e.always_available[i]:
            sl = slice(e.avail_ptr[i], e.avail_ptr[i + 1])
            r["available"] = [
                format_day(s) if s == t else f"{format_day(s)}/{format_day(t)}"
                for s, t in zip(e.avail_start[sl], e.avail_end[sl])
            ]
        sl = slice(e.pref_ptr[i], e.pref_ptr[i + 1])
        if sl.stop > sl.start:
            r["prefers"] = {p.sectors[s]: float(w) for s, w in zip(e.pref_sector[sl], e.pref_weight[sl])}
        out["employees"].append(r)
    out["missions"] = []
    for i in range(len(m)):
        r = {"id": m.ids[i], "association": a.ids[m.association[i]]}
        sl = slice(m.req_ptr[i], m.req_ptr[i + 1])
        r["skills"] = dict(sorted((p.skills[s], int(lv)) for s, lv in zip(m.req_skill[sl], m.req_level[sl])))
        r.update(seats=int(m.seats[i]), min_seats=int(m.min_seats[i]), hours=float(m.hours[i]))
        if m.date[i] != NO_DATE:
            r["date"] = format_day(m.date[i])
        if m.remote[i]:
            r["remote"] = True
        if m.max_per_employer[i] >= 0:
            r["max_per_employer"] = int(m.max_per_employer[i])
        ai = m.association[i]
        if m.lat[i] != a.lat[ai] or m.lon[i] != a.lon[ai]:
            r.update(lat=float(m.lat[i]), lon=float(m.lon[i]))
        out["missions"].append(r)
    for key, prs in (("forced", p.forced), ("forbidden", p.forbidden), ("affinities", p.affinities)):
        if len(prs):
            rows = [{"employee": e.ids[x], "mission": m.ids[y]} for x, y in zip(prs.employee, prs.mission)]
            if key == "affinities":
                for row, s in zip(rows, prs.score):
                    row["score"] = float(s)
            out[key] = rows
    return out


def records_from_frame(frame: Any) -> list[dict[str, Any]]:
    """Turn a pandas DataFrame into records, dropping missing (NaN/None) cells.

    Numpy scalars become Python numbers so that validation sees plain types.
    """
    cols = list(frame.columns)
    out = []
    for row in frame.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            if v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ in ("NAType", "NaTType"):
                continue
            if isinstance(v, np.generic):
                v = v.item()
            rec[c] = v
        out.append(rec)
    return out


# ----------------------------------------------------------------------------- files
def _json_load(path: str | os.PathLike[str]) -> Any:
    # NaN / Infinity (not JSON, but common) are read as floats so that validation
    # reports them with their record and field, together with every other problem.
    try:
        with open(path, "rb") as fh:
            return json.load(fh, parse_constant=float)
    except json.JSONDecodeError as err:
        raise InvalidProblemError([Issue("file", "", "", f"{os.fspath(path)} is not valid JSON: {err}")]) from None
    except UnicodeDecodeError as err:
        raise InvalidProblemError([Issue("file", "", "", f"{os.fspath(path)} is not UTF-8 text: {err}")]) from None


def load(path: str | os.PathLike[str]) -> Any:
    """Load a problem (``koeeo-match/1``, ``.json`` or ``.npz``) or a solution file.

    Examples
    --------
    >>> import koeeo_match as km, tempfile, os
    >>> p = km.synth.city(employees=20, seed=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "p.json")
    >>> km.dump(p, path)
    >>> km.load(path).n_employees
    20
    """
    if os.fspath(path).endswith(".npz"):
        from ._npz import load_npz

        return load_npz(path)
    doc = _json_load(path)
    if isinstance(doc, Mapping) and doc.get("format") == SOLUTION_FORMAT:
        from .solution import Solution

        return Solution.from_dict(doc)
    return problem_from_dict(doc)


def dump(obj: Any, path: str | os.PathLike[str], *, timings: bool = False) -> None:
    """Write a :class:`Problem` (JSON, or compact ``.npz``) or a :class:`Solution` (JSON).

    The output is deterministic: the same object gives the same bytes.  For a
    solution, ``timings=True`` also writes wall-clock seconds (which differ
    from run to run).
    """
    if isinstance(obj, Problem):
        if os.fspath(path).endswith(".npz"):
            from ._npz import dump_npz

            dump_npz(obj, path)
            return
        doc = problem_to_dict(obj)
    else:
        doc = obj.to_dict(timings=timings)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1, allow_nan=False)
        fh.write("\n")
