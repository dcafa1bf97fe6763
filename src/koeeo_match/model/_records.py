"""Tables from a ``koeeo-match/1`` document: validation, references, vocabularies.

:func:`tables_from_dict` checks the whole document and raises one
:class:`~koeeo_match.errors.InvalidProblemError` listing every problem found,
each with its record kind, id and field; nothing is dropped or clamped.  It
returns the tables, and :func:`koeeo_match.model.problem_from_dict` makes
the :class:`~koeeo_match.model.Problem` of them.  One function per table, in
the order the issues are reported: the document, duplicate ids, employers,
employees, missions, pair lists.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidProblemError, Issue, KoeeoMatchWarning
from ._fields import LISTS, _show, parse_records
from ._hours import problem_hours_issue
from ._tables import NO_DATE, Associations, Employees, Employers, Missions, Pairs, format_day

__all__ = ["DEFAULT_HOURS", "DEFAULT_MAX_KM", "PROBLEM_FORMAT", "tables_from_dict"]

PROBLEM_FORMAT = "koeeo-match/1"
DEFAULT_MAX_KM = 30.0
DEFAULT_HOURS = 7.0

Record = dict[str, Any]


class _Refs:
    """Resolves ids to positions, per kind; an unknown id becomes an issue."""

    def __init__(self, index: dict[str, dict[str, int]], issues: list[Issue]):
        self.index = index
        self.issues = issues

    def find(self, kind: str, rid: str, key: str, target: str, name: str) -> int:
        """Position of ``name`` among the ``target`` records, ``-1`` (and an issue) if unknown."""
        j = self.index[target].get(name)
        if j is None:
            self.issues.append(Issue(kind, rid, key, f"refers to unknown {target} {name!r}"))
            return -1
        return j

    def __call__(self, kind: str, r: Record, key: str, target: str) -> int:
        """Position of the record that ``r[key]`` names, ``-1`` when ``r`` names none."""
        name = r.get(key)
        return -1 if name is None else self.find(kind, r["_rid"], key, target, name)


def _csr(rows: list[list[Any]], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    ptr = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=ptr[1:])
    flat = [x for r in rows for x in r]
    return ptr, np.asarray(flat, dtype=dtype).reshape(-1)


def _ids(recs: list[Record], key: str = "id") -> np.ndarray:
    arr = np.empty(len(recs), dtype=object)
    arr[:] = [r.get(key) for r in recs]
    return arr


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or adjacent inclusive day intervals."""
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _parse_document(doc: Any, issues: list[Issue]) -> dict[str, list[Record]]:
    """The top level (format, keys, required lists), then every record, by kind."""
    if not isinstance(doc, Mapping):
        raise InvalidProblemError([Issue("file", "", "", f"expected a JSON object, got {type(doc).__name__}")])
    if doc.get("format") != PROBLEM_FORMAT:
        issues.append(Issue("file", "", "format", f"expected {PROBLEM_FORMAT!r}, got {_show(doc.get('format'))}"))
    for key in doc:
        if key != "format" and key not in LISTS:
            issues.append(
                Issue("file", "", str(key), f"unknown top-level key; expected one of format, {', '.join(LISTS)}")
            )
    for key in ("employees", "missions"):
        if key not in doc:
            issues.append(Issue("file", "", key, "required list is missing"))
    return {kind: parse_records(kind, doc.get(plural, []), issues) for plural, kind in LISTS.items()}


def _index(kind: str, recs: list[Record], issues: list[Issue]) -> dict[str, int]:
    """Position of each id (its first record); a repeated id is an issue."""
    # a dict, not _arrays.index_of: ids may repeat (each repeat is reported) or be missing here
    index: dict[str, int] = {}
    for i, r in enumerate(recs):
        rid = r.get("id")
        if rid is None:
            continue
        if rid in index:
            first = recs[index[rid]]["_pos"]
            issues.append(Issue(kind, rid, "id", f"duplicate id (records #{first} and #{r['_pos']})"))
        else:
            index[rid] = i
    return index


def _employers(ers: list[Record], refs: _Refs) -> Employers:
    """The employers' table.  An excluded association that the problem does not hold (as in the
    file format's own example, DESIGN.md §4) excludes nothing: it is left out with a
    :class:`~koeeo_match.errors.KoeeoMatchWarning` naming it, not refused."""
    excl = []
    unknown: list[str] = []
    known = refs.index["association"]
    for r in ers:
        names = r.get("excluded_associations", [])
        unknown += [f"employer {r['_rid']!r}: {name!r}" for name in dict.fromkeys(names) if name not in known]
        excl.append(sorted({known[name] for name in names if name in known}))
    if unknown:
        shown = "; ".join(unknown[:5]) + (f"; and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        warnings.warn(f"excluded_associations: {len(unknown)} association(s) not in the problem, which "
                      f"excludes nothing and is left out ({shown})", KoeeoMatchWarning, stacklevel=4)
    excl_ptr, excl_assoc = _csr(excl, np.int32)
    return Employers(
        ids=_ids(ers),
        daily_cap=np.array([r.get("daily_cap", -1) for r in ers], np.int32),
        hours_budget=np.array([r.get("hours_budget", math.inf) for r in ers], np.float64),
        excl_ptr=excl_ptr,
        excl_assoc=excl_assoc,
        size=np.array([r.get("size", -1) for r in ers], np.int32),
    )


def _sectors(recs: dict[str, list[Record]]) -> dict[str, int]:
    """Sector vocabulary in order of first appearance: associations, then employees' preferences."""
    sectors: dict[str, int] = {}
    for r in recs["association"]:
        if "sector" in r:
            sectors.setdefault(r["sector"], len(sectors))
    for r in recs["employee"]:
        for s in r.get("prefers", {}):
            sectors.setdefault(s, len(sectors))
    return sectors


def _associations(ass: list[Record], sectors: dict[str, int]) -> Associations:
    return Associations(
        ids=_ids(ass),
        lat=np.array([r.get("lat", 0.0) for r in ass], np.float64),
        lon=np.array([r.get("lon", 0.0) for r in ass], np.float64),
        sector=np.array([sectors[r["sector"]] if "sector" in r else -1 for r in ass], np.int32),
        priority=np.array([r.get("priority", 1.0) for r in ass], np.float64),
        staff=np.array([r.get("staff", -1) for r in ass], np.int32),
    )


def _employees(ees: list[Record], refs: _Refs, skills: dict[str, int], sectors: dict[str, int]) -> Employees:
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
    return Employees(
        ids=_ids(ees),
        employer=np.array([refs("employee", r, "employer", "employer") for r in ees], np.int32),
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
        joined=np.array([r.get("joined", NO_DATE) for r in ees], np.int32),
    )


def _mission_issues(r: Record, issues: list[Issue]) -> None:
    """Rules between the fields of one mission: team minimum within seats, lat and lon together,
    posted no later than its date."""
    seats, mins = r.get("seats", 1), r.get("min_seats", 1)
    seats_valid = "seats" in r or "seats" not in r["_given"]
    if seats_valid and "min_seats" in r and mins > seats:
        default = "" if "seats" in r else " (the default)"
        issues.append(Issue("mission", r["_rid"], "min_seats", f"min_seats {mins} exceeds seats {seats}{default}"))
    if ("lat" in r) != ("lon" in r) and not {"lat", "lon"} <= set(r["_given"]):  # not when one was refused
        issues.append(Issue("mission", r["_rid"], "lon" if "lat" in r else "lat", "give both lat and lon, or neither"))
    if "posted" in r and "date" in r and r["posted"] > r["date"]:
        issues.append(Issue("mission", r["_rid"], "posted",
                            f"posted {format_day(r['posted'])}, after the mission's date {format_day(r['date'])}"))


def _missions(mis: list[Record], refs: _Refs, skills: dict[str, int], associations: Associations) -> Missions:
    a_of = np.array([refs("mission", r, "association", "association") for r in mis], np.int32)
    req_rows, req_lv = [], []
    mlat, mlon = np.empty(len(mis)), np.empty(len(mis))
    for i, r in enumerate(mis):
        req = sorted((skills[s], lv) for s, lv in r.get("skills", {}).items())
        req_rows.append([s for s, _ in req])
        req_lv.append([lv for _, lv in req])
        _mission_issues(r, refs.issues)
        if "lat" in r and "lon" in r:  # its own place, else its association's
            mlat[i], mlon[i] = r["lat"], r["lon"]
        elif a_of[i] >= 0:
            mlat[i], mlon[i] = associations.lat[a_of[i]], associations.lon[a_of[i]]
        else:
            mlat[i], mlon[i] = 0.0, 0.0
    req_ptr, req_skill = _csr(req_rows, np.int32)
    _, req_level = _csr(req_lv, np.uint8)
    return Missions(
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
        posted=np.array([r.get("posted", NO_DATE) for r in mis], np.int32),
    )


def _pairs(recs: dict[str, list[Record]], refs: _Refs) -> dict[str, Pairs]:
    """The three pair lists; a pair listed twice, or both forced and forbidden, is an issue."""
    pairs = {}
    seen: dict[str, dict[tuple[int, int], str]] = {}
    for kind in ("forced", "forbidden", "affinity"):
        es, ms, sc = [], [], []
        seen[kind] = {}
        for r in recs[kind]:
            e = refs(kind, r, "employee", "employee")
            m = refs(kind, r, "mission", "mission")
            if e < 0 or m < 0:
                continue
            if (e, m) in seen[kind]:
                refs.issues.append(Issue(kind, r["_rid"], "", f"pair listed twice (also {seen[kind][(e, m)]})"))
                continue
            seen[kind][(e, m)] = r["_rid"]
            es.append(e)
            ms.append(m)
            sc.append(r.get("score", 0.0))
        pairs[kind] = Pairs(np.array(es, np.int32), np.array(ms, np.int32), np.array(sc, np.float64))
    for pair, rid in seen["forced"].items():
        if pair in seen["forbidden"]:
            refs.issues.append(Issue("forced", rid, "", f"the same pair is also forbidden ({seen['forbidden'][pair]})"))
    return {"forced": pairs["forced"], "forbidden": pairs["forbidden"], "affinities": pairs["affinity"]}


def tables_from_dict(doc: Any) -> dict[str, Any]:
    """Validate a ``koeeo-match/1`` document (already parsed JSON) into the tables of a problem.

    Parameters
    ----------
    doc : Mapping
        The document: ``format``, ``employees``, ``missions`` and the optional lists.

    Returns
    -------
    dict
        The keyword arguments of :class:`~koeeo_match.model.Problem`: the four
        tables, ``skills`` (sorted), ``sectors`` (in order of first
        appearance) and the pair lists ``forced``, ``forbidden``, ``affinities``.

    Raises
    ------
    InvalidProblemError
        Listing every problem in the document.

    Examples
    --------
    >>> t = tables_from_dict({"format": "koeeo-match/1",
    ...     "associations": [{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     "employees": [{"id": "e", "lat": 45.0, "lon": 5.0, "skills": {"law": 2}}],
    ...     "missions": [{"id": "m", "association": "a"}]})
    >>> t["skills"], t["employees"].skill_level.tolist()
    (('law',), [[2]])
    """
    issues: list[Issue] = []
    recs = _parse_document(doc, issues)
    refs = _Refs({k: _index(k, recs[k], issues) for k in ("employer", "association", "employee", "mission")}, issues)
    employers = _employers(recs["employer"], refs)
    sectors = _sectors(recs)
    associations = _associations(recs["association"], sectors)
    # skills vocabulary sorted, for determinism across input orders
    skill_names = sorted({s for k in ("employee", "mission") for r in recs[k] for s in r.get("skills", {})})
    skills = {s: j for j, s in enumerate(skill_names)}
    employees = _employees(recs["employee"], refs, skills, sectors)
    missions = _missions(recs["mission"], refs, skills, associations)
    pairs = _pairs(recs, refs)
    if not issues:
        joint = problem_hours_issue(missions, employees, employers)
        issues += [] if joint is None else [joint]
    if issues:
        raise InvalidProblemError(issues)
    return dict(
        employers=employers,
        associations=associations,
        employees=employees,
        missions=missions,
        skills=tuple(skill_names),
        sectors=tuple(sectors),
        **pairs,
    )
