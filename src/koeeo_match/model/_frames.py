"""Problems as tables: records from frames (and rows read from Parquet), and a problem's columns back.

One frame per record kind, one row per record, one column per field of
``koeeo-match/1``.  Variable-length fields are cells holding Python objects:
``skills`` and ``prefers`` a dict (or a list of ``(key, value)`` pairs, as
pandas gives a Parquet map column), ``available`` and
``excluded_associations`` a list (or a 1-d numpy array).  A missing cell
(``None``, NaN, ``pd.NA``, ``NaT``) means "field not given"; in a required
field (an employee's ``lat``) a NaN, ``pd.NA`` or ``NaT`` is reported as
what it is, not as a missing field.  A column name given twice is refused.  Mission ``date``
and ``posted`` and employee ``joined`` cells may be ``YYYY-MM-DD`` strings, dates, pandas Timestamps or
``numpy.datetime64`` at midnight, and so may the items of ``available``;
numpy scalars are accepted wherever a number is.

Two optional one-column frames, ``skills`` and ``sectors`` (column
``name``), give the order of the vocabularies; they must list every skill
(sector) used, each once, and may list more.  :func:`problem_columns` writes
them, so that a problem goes to frames and back with every array equal.

Everything goes through the model's record validation
(:func:`~koeeo_match.model._records.tables_from_dict`); the conversions here
only change the form of a value, never drop or clamp one.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidProblemError, Issue
from ._fields import LISTS, fields, required, show_value, text_issue
from ._records import PROBLEM_FORMAT, tables_from_dict
from ._tables import NO_DATE

if TYPE_CHECKING:
    from ._problem import Problem

__all__ = [
    "VOCABULARIES", "frame_issues", "problem_columns", "problem_frames", "records_from_frame", "repeated_columns",
    "rows_of_frame", "tables_from_rows", "vocabulary_issues",
]

#: The optional vocabulary tables: their order is the order of the problem's ``skills`` / ``sectors``.
VOCABULARIES = ("skills", "sectors")
_MAPS = ("skills", "prefers")
_DAYS = ("date", "joined", "posted")


def _missing(v: Any) -> bool:
    """NaN, None, ``pd.NA`` and ``pd.NaT``: the field is not given."""
    return (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, np.datetime64) and np.isnat(v))
        or type(v).__name__ in ("NAType", "NaTType")
    )


def _day(v: Any) -> Any:
    """A date-like value at midnight as ``YYYY-MM-DD``; anything else unchanged (validation names it)."""
    if _missing(v):  # NaT (in a list, or a required field): validation says what it is
        return v
    if isinstance(v, np.datetime64):
        d = v.astype("datetime64[D]")
        return str(d) if d == v else v
    if isinstance(v, _dt.datetime):
        try:
            midnight = v.tzinfo is None and v.time() == _dt.time() and getattr(v, "nanosecond", 0) == 0
            return v.date().isoformat() if midnight else v
        except (ValueError, OverflowError, NotImplementedError):  # a Timestamp beyond Python's years 1-9999
            return str(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


def _plain(v: Any) -> Any:
    """Numpy scalars as Python ones, arrays as lists, recursively (dates are left to :func:`_day`)."""
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()] if v.dtype != object else [_plain(x) for x in v]
    if isinstance(v, np.generic) and not isinstance(v, np.datetime64):
        return v.item()
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, Mapping):
        return {_plain(k): _plain(x) for k, x in v.items()}
    return v


def _as_map(v: Any) -> Any:
    """A list of ``(key, value)`` pairs (a Parquet map) as a dict; a repeated key is a ValueError."""
    if isinstance(v, list) and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        keys = [k for k, _ in v]
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if keys.count(k) > 1)
            raise ValueError(f"key {dup!r} is given twice")
        return dict(v)
    return v


def _normalise(kind: str, pos: int, rec: dict[str, Any], issues: list[Issue],
               nan_missing: bool = True) -> dict[str, Any]:
    """One row as a record: missing cells left out, values in the plain forms validation reads.
    ``nan_missing``: NaN, ``pd.NA`` and ``NaT`` mean "not given" as None does (a frame's cells);
    False: only None does (Parquet's null), and a NaN is a value validation refuses."""
    out: dict[str, Any] = {}
    for key, v in rec.items():
        if (_missing(v) if nan_missing else v is None) and (v is None or not required(kind, str(key))):
            continue  # a required field's NaN (NaT, pd.NA) is kept: validation says what it is, not "missing"
        v = _plain(v)
        if key in _DAYS:
            v = _day(v)
        elif key == "available" and isinstance(v, list):
            v = [_day(x) for x in v]
        elif key in _MAPS:
            try:
                v = _as_map(v)
            except ValueError as err:
                rid = rec.get("id")
                issues.append(Issue(kind, rid if isinstance(rid, str) and rid else f"#{pos}", str(key), str(err)))
                continue
        out[str(key)] = v
    return out


def records_from_frame(frame: Any) -> list[dict[str, Any]]:
    """Turn a pandas DataFrame into records, dropping missing (NaN/None) cells.

    Numpy scalars become Python numbers, arrays lists, so that validation sees plain types.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns are the record fields of ``koeeo-match/1``; dict- and
        list-valued fields are cells holding dicts / lists.

    Returns
    -------
    list of dict
        One record per row, without its missing cells.

    Examples
    --------
    >>> import pandas as pd
    >>> records_from_frame(pd.DataFrame({"id": ["e1", "e2"], "max_km": [10.0, None]}))
    [{'id': 'e1', 'max_km': 10.0}, {'id': 'e2'}]
    """
    cols = [str(c) for c in frame.columns]
    issues = repeated_columns("record", "the frame", cols)  # with every other issue, as from_frames does
    out = [_normalise("record", i, dict(zip(cols, row)), issues)
           for i, row in enumerate(frame.itertuples(index=False, name=None))]
    if issues:
        raise InvalidProblemError(issues)
    return out


def repeated_columns(kind: str, table: str, columns: Iterable[Any]) -> list[Issue]:
    """An issue per column name (as text) that ``table`` (its words: "the employees table") holds more than
    once: refused, not one chosen.

    >>> [str(i) for i in repeated_columns("employee", "the employees table", ["id", "hours", "hours"])]
    ["employee, field 'hours': the employees table has 2 columns named 'hours': refused rather than choose one"]
    """
    counts = Counter(str(c) for c in columns)
    return [Issue(kind, "", c, f"{table} has {n} columns named {c!r}: refused rather than choose one")
            for c, n in counts.items() if n > 1]


def _vocabulary(name: str, rows: Any, used: tuple[str, ...], issues: list[Issue]) -> list[str] | None:
    """The names of a vocabulary table, checked: strings, each once, every used one listed."""
    if not isinstance(rows, list):
        issues.append(Issue("file", "", name, f"expected a pandas DataFrame, got {type(rows).__name__}"))
        return None
    names = []
    for i, r in enumerate(rows):
        v = _plain(r.get("name")) if isinstance(r, Mapping) else None
        if not isinstance(v, str) or not v or set(r) != {"name"}:
            issues.append(Issue(name, f"#{i}", "name", f"expected one column 'name' of non-empty strings, got {r!r}"))
            continue
        names.append(v)
    issues += vocabulary_issues(name, names)
    seen = set(names)
    for v in used:
        if v not in seen:
            issues.append(Issue(name, v, "name", f"used by the records but not listed in the {name} table"))
    return names


def vocabulary_issues(name: str, names: Sequence[str]) -> list[Issue]:
    """The rules of a vocabulary's names, every reader's: each a non-empty string, listed once.

    ``name`` is ``"skills"`` or ``"sectors"``, the kind of the issues: an empty name is named by
    its position, each repeat by the name.

    >>> [str(i) for i in vocabulary_issues("skills", ["law", "", "law"])]
    ["skills '#1', field 'name': expected a non-empty string", "skills 'law', field 'name': listed twice (#0 and #2)"]
    """
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, v in enumerate(names):
        if not v:
            issues.append(Issue(name, f"#{i}", "name", "expected a non-empty string"))
        elif (why := text_issue(v)) is not None:
            issues.append(Issue(name, f"#{i}", "name", f"{show_value(v)} {why}"))
        elif v in seen:
            issues.append(Issue(name, v, "name", f"listed twice (#{seen[v]} and #{i})"))
        seen.setdefault(v, i)
    return issues


def _resorted(ptr: np.ndarray, key: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """``key`` and ``values`` of a CSR list sorted by ``key`` within each row."""
    owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    order = np.lexsort((key, owner))
    return (key[order], *(v[order] for v in values))


def _with_vocabularies(t: dict[str, Any], skills: list[str] | None, sectors: list[str] | None) -> dict[str, Any]:
    """The tables re-indexed on the given vocabulary orders (rows of CSR lists kept sorted by index)."""
    if skills is not None:
        pos = np.array([skills.index(s) for s in t["skills"]], np.int32)
        e, m = t["employees"], t["missions"]
        level = np.zeros((len(e), len(skills)), np.uint8)
        level[:, pos] = e.skill_level
        req_skill, req_level = _resorted(m.req_ptr, pos[m.req_skill], m.req_level)
        t.update(employees=replace(e, skill_level=level), skills=tuple(skills),
                 missions=replace(m, req_skill=req_skill, req_level=req_level))
    if sectors is not None:
        pos = np.array([sectors.index(s) for s in t["sectors"]] or [0], np.int32)
        a, e = t["associations"], t["employees"]
        pref_sector, pref_weight = _resorted(e.pref_ptr, pos[e.pref_sector], e.pref_weight)
        t.update(associations=replace(a, sector=np.where(a.sector >= 0, pos[a.sector], -1).astype(np.int32)),
                 employees=replace(t["employees"], pref_sector=pref_sector, pref_weight=pref_weight),
                 sectors=tuple(sectors))
    return t


def tables_from_rows(tables: Mapping[str, Any], found: Iterable[Issue] = (), *,
                     nan_missing: bool = True) -> dict[str, Any]:
    """Validate tables given as lists of row dicts (frames' or Parquet's rows) into a problem's tables.

    Parameters
    ----------
    tables : mapping
        ``employers``, ``associations``, ``employees``, ``missions``,
        ``forced``, ``forbidden``, ``affinities`` (lists of row dicts, missing
        cells as None or NaN) and the optional vocabularies ``skills`` and
        ``sectors`` (rows ``{"name": ...}``).
    found : iterable of Issue, optional
        Issues the caller found in the tables' form (a column given twice): reported first,
        with every other one.
    nan_missing : bool, default True
        Whether a NaN (``pd.NA``, ``NaT``) cell means "not given", as in a DataFrame; Parquet
        keeps null apart from NaN, so its reader passes False: a NaN there is refused by name.

    Returns
    -------
    dict
        The keyword arguments of :class:`~koeeo_match.model.Problem`.

    Raises
    ------
    InvalidProblemError
        Every problem at once: unknown tables, the records' issues, the vocabularies'.

    Examples
    --------
    >>> t = tables_from_rows({"associations": [{"id": "a", "lat": 45.0, "lon": 5.0, "sector": None}],
    ...     "employees": [{"id": "e", "lat": 45.0, "lon": 5.0, "skills": [("law", np.int64(2))]}],
    ...     "missions": [{"id": "m", "association": "a", "date": np.datetime64("2027-03-12")}],
    ...     "skills": [{"name": "art"}, {"name": "law"}]})
    >>> t["skills"], t["employees"].skill_level.tolist(), int(t["missions"].date[0])
    (('art', 'law'), [[0, 2]], 20889)
    """
    issues: list[Issue] = list(found)
    doc: dict[str, Any] = {"format": PROBLEM_FORMAT}
    for name, rows in tables.items():
        if name in VOCABULARIES:
            continue
        if name not in LISTS:
            issues.append(Issue("file", "", name, f"unknown table; expected {', '.join([*LISTS, *VOCABULARIES])}"))
            continue
        if not isinstance(rows, list):
            issues.append(Issue("file", "", name, f"expected a pandas DataFrame, got {type(rows).__name__}"))
            doc[name] = []  # reported once, here
            continue
        kind = LISTS[name]
        # a column the format does not have: said once for the table, not once per row (a million rows)
        known = fields(kind)
        keys = set().union(*(r for r in rows if isinstance(r, Mapping)))  # every row's keys, unioned in C
        unknown = {str(c) for c in keys} - set(known)
        issues += [Issue(kind, "", c, f"the {name} table has a column the format does not know; expected columns "
                         f"among {', '.join(known)}") for c in sorted(unknown)]
        doc[name] = [_normalise(kind, i, {k: v for k, v in r.items() if str(k) not in unknown} if unknown else dict(r),
                                issues, nan_missing)
                     if isinstance(r, Mapping) else r for i, r in enumerate(rows)]
    t: dict[str, Any] = {}
    try:
        t = tables_from_dict(doc)
    except InvalidProblemError as err:
        issues += err.issues
    vocab = {n: _vocabulary(n, tables[n], t.get(n, ()), issues) if n in tables else None for n in VOCABULARIES}
    if issues:
        raise InvalidProblemError(issues)
    return _with_vocabularies(t, vocab["skills"], vocab["sectors"])


# ----------------------------------------------------------------------------- a problem's columns
def _split(values: list[Any], ptr: np.ndarray) -> list[list[Any]]:
    bounds = ptr.tolist()
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _maps(keys: np.ndarray, values: np.ndarray, ptr: np.ndarray) -> list[dict[str, Any]]:
    """One dict per CSR row."""
    return [dict(zip(k, v)) for k, v in zip(_split(keys.tolist(), ptr), _split(values.tolist(), ptr))]


def _ids_or_none(ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.full(len(idx), None, dtype=object)
    out[idx >= 0] = ids[idx[idx >= 0]]
    return out


def _days(day: np.ndarray) -> np.ndarray:
    """Model days as ``datetime64[D]`` (NaT for :data:`NO_DATE`)."""
    out = day.astype(np.int64).astype("datetime64[D]")
    out[day == NO_DATE] = np.datetime64("NaT")
    return out


def _employee_columns(p: Problem) -> dict[str, Any]:
    e = p.employees
    row, col = np.nonzero(e.skill_level)
    ptr = np.searchsorted(row, np.arange(len(e) + 1))
    start, end = e.avail_start.astype("datetime64[D]").astype(str), e.avail_end.astype("datetime64[D]").astype(str)
    items = np.where(start == end, start, np.char.add(np.char.add(start, "/"), end)).tolist()
    available = np.empty(len(e), dtype=object)
    available[:] = _split(items, e.avail_ptr)
    available[e.always_available] = None
    return {
        "id": e.ids, "employer": _ids_or_none(p.employers.ids, e.employer), "lat": e.lat, "lon": e.lon,
        "max_km": e.max_km, "remote_ok": e.remote_ok, "hours": e.hours,
        "skills": _maps(np.array(p.skills, object)[col], e.skill_level[row, col].astype(np.int64), ptr),
        "available": available,
        "prefers": _maps(np.array(p.sectors, object)[e.pref_sector], e.pref_weight, e.pref_ptr),
        "joined": _days(e.joined),
    }


def _mission_columns(p: Problem) -> dict[str, Any]:
    m, a = p.missions, p.associations
    own = (m.lat != a.lat[m.association]) | (m.lon != a.lon[m.association])
    return {
        "id": m.ids, "association": a.ids[m.association],
        "lat": np.where(own, m.lat, np.nan), "lon": np.where(own, m.lon, np.nan),
        "skills": _maps(np.array(p.skills, object)[m.req_skill], m.req_level.astype(np.int64), m.req_ptr),
        "seats": m.seats, "min_seats": m.min_seats, "hours": m.hours, "date": _days(m.date),
        "remote": m.remote, "max_per_employer": np.ma.masked_less(m.max_per_employer, 0),
        "posted": _days(m.posted),
    }


def problem_columns(problem: Problem) -> dict[str, dict[str, Any]]:
    """Every table of a problem as columns (numpy arrays, or lists of dicts / lists for CSR fields).

    A missing value is ``None`` in object columns, NaN in float ones, NaT in
    dates and masked in integer ones (a ``numpy.ma`` array).  Pair tables
    appear when not empty; ``skills`` and ``sectors`` always.

    Examples
    --------
    >>> import koeeo_match as km
    >>> c = problem_columns(km.synth.city(employees=5, seed=0))
    >>> sorted(c), list(c["missions"])[:3]
    (['associations', 'employees', 'employers', 'missions', 'sectors', 'skills'], ['id', 'association', 'lat'])
    """
    p, er, a = problem, problem.employers, problem.associations
    excl = _split(a.ids[er.excl_assoc].tolist(), er.excl_ptr)
    out: dict[str, dict[str, Any]] = {
        "employers": {"id": er.ids, "daily_cap": np.ma.masked_less(er.daily_cap, 0),
                      "hours_budget": np.where(np.isfinite(er.hours_budget), er.hours_budget, np.nan),
                      "excluded_associations": excl, "size": np.ma.masked_less(er.size, 0)},
        "associations": {"id": a.ids, "lat": a.lat, "lon": a.lon,
                         "sector": _ids_or_none(np.array(p.sectors, object), a.sector),
                         "priority": a.priority, "staff": np.ma.masked_less(a.staff, 0)},
        "employees": _employee_columns(p),
        "missions": _mission_columns(p),
    }
    e_ids, m_ids = p.employees.ids, p.missions.ids
    for name in ("forced", "forbidden", "affinities"):
        prs = getattr(p, name)
        if len(prs):
            out[name] = {"employee": e_ids[prs.employee], "mission": m_ids[prs.mission]}
            if name == "affinities":
                out[name]["score"] = prs.score
    out["skills"] = {"name": np.array(p.skills, object)}
    out["sectors"] = {"name": np.array(p.sectors, object)}
    return out


def _series_values(v: Any) -> Any:
    """A column as pandas wants it: masked ints as nullable ``Int64``, days as ``datetime64[s]``, lists as objects."""
    import pandas as pd

    if isinstance(v, np.ma.MaskedArray):
        return pd.arrays.IntegerArray(np.asarray(v.data, np.int64), np.ma.getmaskarray(v).copy())
    if isinstance(v, list):
        out = np.empty(len(v), dtype=object)
        out[:] = v
        return out
    if v.dtype.kind == "M":
        return v.astype("datetime64[s]")
    return v.copy()


def problem_frames(problem: Problem) -> dict[str, Any]:
    """The tables of a problem as pandas DataFrames (see :meth:`Problem.to_frames`).

    Examples
    --------
    >>> import koeeo_match as km
    >>> f = problem_frames(km.synth.city(employees=5, seed=0))
    >>> f["missions"]["date"].dtype
    dtype('<M8[s]')
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the dev extra
        raise ImportError("Problem.to_frames needs pandas: pip install koeeo-match[pandas]") from None
    return {name: pd.DataFrame({c: _series_values(v) for c, v in cols.items()})
            for name, cols in problem_columns(problem).items()}


def rows_of_frame(frame: Any) -> Any:
    """The rows of a DataFrame as dicts (cells as they are); anything else as it is.

    A column name given twice keeps one of them here: :func:`frame_issues` reports it first.
    """
    if not (hasattr(frame, "columns") and hasattr(frame, "itertuples")):
        return frame  # reported, with every other problem, by tables_from_rows
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, row)) for row in frame.itertuples(index=False, name=None)]


def frame_issues(frames: Mapping[str, Any]) -> list[Issue]:
    """The issues of the frames' form: each column that a frame holds more than once."""
    return [i for name, frame in frames.items() if hasattr(frame, "columns")
            for i in repeated_columns(LISTS.get(name, name), f"the {name} table", frame.columns)]
