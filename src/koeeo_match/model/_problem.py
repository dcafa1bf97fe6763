"""The :class:`Problem`: four tables, three pair lists and two vocabularies, validated and immutable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._params import Satisfies, validate
from ._frames import frame_issues, problem_frames, rows_of_frame, tables_from_rows
from ._records import PROBLEM_FORMAT, tables_from_dict
from ._tables import Associations, Employees, Employers, Missions, Pairs
from ._taken import Taken

__all__ = ["Problem", "problem_from_dict"]

#: What each list of :meth:`Problem.from_records` must be: records one by one, not a str nor one dict.
_RECORDS = [Satisfies(lambda v: isinstance(v, Iterable) and not isinstance(v, (str, bytes, Mapping)),
                      "a list of records (dicts)")]


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated assignment problem (immutable).

    Build one with :func:`koeeo_match.load`, :meth:`Problem.from_records` or
    :meth:`Problem.from_frames`; these validate the input and raise
    :class:`~koeeo_match.errors.InvalidProblemError` listing every problem at
    once.

    Attributes
    ----------
    employers, associations, employees, missions
        The four tables (see their classes).
    forced, forbidden, affinities
        Pair lists: pairs that must / must not be assigned, and a
        recommender's score per pair.
    taken : Taken or None
        Only in a *reduced problem* (what pinned assignments leave, see
        ``km.solve(..., fixed=...)``): the capacity of per-group rules
        already used and the teams already started.  ``None`` otherwise.
    skills : tuple of str
        Skill vocabulary; column ``j`` of ``employees.skill_level`` is ``skills[j]``.
    sectors : tuple of str
        Sector (cause) vocabulary.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a1", "lat": 48.85, "lon": 2.35}],
    ...     employees=[{"id": "e1", "lat": 48.86, "lon": 2.34, "skills": {"law": 2}}],
    ...     missions=[{"id": "m1", "association": "a1", "skills": {"law": 1}}])
    >>> p.n_employees, p.n_missions, p.skills
    (1, 1, ('law',))
    """

    employers: Employers
    associations: Associations
    employees: Employees
    missions: Missions
    skills: tuple[str, ...]
    sectors: tuple[str, ...]
    forced: Pairs = field(default_factory=Pairs.empty)
    forbidden: Pairs = field(default_factory=Pairs.empty)
    affinities: Pairs = field(default_factory=Pairs.empty)
    taken: Taken | None = None  # capacity taken by pinned assignments (a reduced problem, see model._taken)

    @property
    def n_employees(self) -> int:
        """Number of employees."""
        return len(self.employees)

    @property
    def n_missions(self) -> int:
        """Number of missions."""
        return len(self.missions)

    def __repr__(self) -> str:
        return (
            f"Problem({self.n_employees} employees, {self.n_missions} missions, "
            f"{len(self.associations)} associations, {len(self.employers)} employers)"
        )

    @classmethod
    def from_records(
        cls,
        *,
        employees: Sequence[Mapping[str, Any]],
        missions: Sequence[Mapping[str, Any]],
        associations: Sequence[Mapping[str, Any]] = (),
        employers: Sequence[Mapping[str, Any]] = (),
        forced: Sequence[Mapping[str, Any]] = (),
        forbidden: Sequence[Mapping[str, Any]] = (),
        affinities: Sequence[Mapping[str, Any]] = (),
    ) -> Problem:
        """Build and validate a problem from lists of dicts (``koeeo-match/1`` records).

        Raises
        ------
        InvalidProblemError
            Listing every problem in the records.
        InvalidParameterError
            An argument that is not a list (an iterable) of records: None, a str, one dict.
        """
        lists = dict(employees=employees, missions=missions, associations=associations, employers=employers,
                     forced=forced, forbidden=forbidden, affinities=affinities)
        validate("Problem.from_records", dict.fromkeys(lists, _RECORDS), lists)
        return problem_from_dict(
            {
                "format": PROBLEM_FORMAT,
                "employers": list(employers),
                "associations": list(associations),
                "employees": list(employees),
                "missions": list(missions),
                "forced": list(forced),
                "forbidden": list(forbidden),
                "affinities": list(affinities),
            }
        )

    @classmethod
    def from_frames(cls, **frames: Any) -> Problem:
        """Build a problem from pandas DataFrames, one per record kind (the inverse of :meth:`to_frames`).

        Columns are the record fields of ``koeeo-match/1``; dict-valued fields
        (``skills``, ``prefers``) are cells holding dicts (or lists of
        ``(key, value)`` pairs), list-valued ones (``available``,
        ``excluded_associations``) cells holding lists or arrays.  Missing
        values (NaN, None, ``pd.NA``, ``NaT``) mean "field not given".  Dates
        (``date``, items of ``available``) may be ``YYYY-MM-DD`` strings,
        dates, Timestamps or ``datetime64`` at midnight; numbers may be numpy
        scalars.  The optional frames ``skills`` and ``sectors`` (one column
        ``name``) fix the order of the vocabularies.  Requires pandas.

        Raises
        ------
        InvalidProblemError
            Listing every problem in the frames (an unknown frame name, a column given twice included).

        Examples
        --------
        >>> import pandas as pd, koeeo_match as km
        >>> km.Problem.from_frames(
        ...     associations=pd.DataFrame({"id": ["a1"], "lat": [48.85], "lon": [2.35]}),
        ...     employees=pd.DataFrame({"id": ["e1", "e2"], "lat": [48.86, 48.9], "lon": [2.34, 2.3]}),
        ...     missions=pd.DataFrame({"id": ["m1"], "association": ["a1"],
        ...                            "date": pd.to_datetime(["2027-03-12"])})).n_employees
        2
        """
        rows = {k: rows_of_frame(v) for k, v in frames.items()}
        return cls(**tables_from_rows(rows, found=frame_issues(frames)))

    def to_frames(self) -> dict[str, Any]:
        """The problem as pandas DataFrames, one per table, that :meth:`from_frames` reads back.

        Keys: ``employers``, ``associations``, ``employees``, ``missions``;
        ``forced``, ``forbidden``, ``affinities`` when not empty; ``skills``
        and ``sectors`` (the vocabularies, column ``name``, in order).  One
        row per record, one column per field: integers with a missing value
        are nullable ``Int64`` (``<NA>`` when not given), ``hours_budget`` is
        NaN without a budget, a mission's ``lat``/``lon`` NaN when it sits at
        its association's place, ``date`` ``datetime64[s]`` (NaT when
        undated); ``skills`` and ``prefers`` cells are dicts, ``available``
        cells lists of ``YYYY-MM-DD`` or ``start/end`` strings (None: always
        available), ``excluded_associations`` lists of ids.  Requires pandas.

        ``Problem.from_frames(**p.to_frames())`` gives back a problem whose
        every array equals ``p``'s.

        Examples
        --------
        >>> import koeeo_match as km
        >>> p = km.synth.city(employees=30, seed=0)
        >>> frames = p.to_frames()
        >>> frames["employees"].columns.tolist()[:4], len(frames["missions"]) == p.n_missions
        (['id', 'employer', 'lat', 'lon'], True)
        >>> km.Problem.from_frames(**frames).skills == p.skills
        True
        """
        if self.taken is not None:
            raise ValueError("a reduced problem (what pinned assignments leave, Problem.taken) has no frames: "
                             "use the whole problem and km.solve(..., fixed=...)")
        return problem_frames(self)


def problem_from_dict(doc: Any) -> Problem:
    """Validate a ``koeeo-match/1`` document (already parsed JSON) into a :class:`Problem`.

    Parameters
    ----------
    doc : Mapping
        The document (``format``, ``employees``, ``missions`` and the optional lists).

    Returns
    -------
    Problem

    Raises
    ------
    InvalidProblemError
        Listing every problem in the document.

    Examples
    --------
    >>> p = problem_from_dict({"format": "koeeo-match/1",
    ...     "associations": [{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     "employees": [{"id": "e", "lat": 45.0, "lon": 5.0}],
    ...     "missions": [{"id": "m", "association": "a", "date": "2027-03-12"}]})
    >>> p
    Problem(1 employees, 1 missions, 1 associations, 0 employers)
    """
    return Problem(**tables_from_dict(doc))
