"""The problem, as immutable columnar numpy arrays.

A :class:`Problem` holds four tables (employers, associations, employees,
missions) and three optional pair lists (forced, forbidden, affinities).
Every reference between tables is a dense ``int32`` index, ``-1`` meaning
"none"; the caller's string ids are kept in each table's ``ids`` array for
output.  Variable-length attributes (required skills, availability windows,
cause preferences, employer exclusions) are CSR pairs ``(ptr, values)``:
the values of row ``i`` are ``values[ptr[i]:ptr[i + 1]]``.

Dates are integer days since 1970-01-01 (``numpy.datetime64`` days), and
``NO_DATE`` marks a mission without a date.

Build a problem with :func:`koeeo_match.load`,
:meth:`Problem.from_records` or :meth:`Problem.from_frames`; these validate
the input and raise :class:`~koeeo_match.errors.InvalidProblemError` listing
every problem at once.
"""

from __future__ import annotations

import datetime as _dt

from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "NO_DATE",
    "SMALL_ASSOCIATION_MAX_STAFF",
    "Employers",
    "Associations",
    "Employees",
    "Missions",
    "Pairs",
    "Problem",
]

#: Sentinel date of a mission without a date (scheduled later by the parties).
NO_DATE = np.int32(np.iinfo(np.int32).min)
_EPOCH = 719163  # date(1970, 1, 1).toordinal()


def format_day(day: int) -> str:
    """``YYYY-MM-DD`` of a day counted from 1970-01-01 (the model's date unit).

    >>> format_day(20819)
    '2027-01-01'
    """
    return _dt.date.fromordinal(int(day) + _EPOCH).isoformat()

#: An association is *small* when it has at most this many salaried staff.
#: Why 2: "fewer than 3 employees" is the smallest size band of the French
#: statistics on employer associations (Recherches & Solidarités, *La France
#: associative en mouvement*), so the definition can be compared with national
#: figures; and an association of that size has nobody paid for support work
#: (accounting, communication, IT, law), the very skills that skills-based
#: volunteering brings.  Associations without salaried staff (about 87 % in
#: France) are small; an association of unknown size (no ``staff``) is not.
SMALL_ASSOCIATION_MAX_STAFF = 2


def _freeze(obj: Any) -> None:
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray):
            v.setflags(write=False)


@dataclass(frozen=True, eq=False)
class Employers:
    """Employers: optional daily cap, hour budget, excluded associations and size.

    ``daily_cap`` is ``-1`` and ``hours_budget`` is ``inf`` when not given;
    ``size`` (the employer's whole workforce, used only by metrics) is ``-1``
    when unknown.
    """

    ids: np.ndarray  # str
    daily_cap: np.ndarray  # int32, -1 = none
    hours_budget: np.ndarray  # float64, inf = none
    excl_ptr: np.ndarray  # int64 CSR over associations
    excl_assoc: np.ndarray  # int32
    size: np.ndarray  # int32 number of employees, -1 = unknown

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Associations:
    """Associations: location, sector (cause), priority and salaried staff.

    ``staff`` is the number of salaried employees, ``-1`` when unknown.
    """

    ids: np.ndarray
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    sector: np.ndarray  # int32 index into Problem.sectors, -1 = none
    priority: np.ndarray  # float64 >= 0
    staff: np.ndarray  # int32 salaried employees, -1 = unknown

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def small(self) -> np.ndarray:
        """Boolean mask of small associations: known ``staff`` <= :data:`SMALL_ASSOCIATION_MAX_STAFF`.

        >>> import numpy as np
        >>> a = Associations(ids=np.array(["x", "y", "z"], object), lat=np.zeros(3), lon=np.zeros(3),
        ...                  sector=np.full(3, -1, np.int32), priority=np.ones(3),
        ...                  staff=np.array([0, 40, -1], np.int32))
        >>> a.small.tolist()
        [True, False, False]
        """
        return (self.staff >= 0) & (self.staff <= SMALL_ASSOCIATION_MAX_STAFF)


@dataclass(frozen=True, eq=False)
class Employees:
    """Employees: employer, location, radius, skills, hours and availability.

    ``skill_level`` is an ``E x S`` ``uint8`` matrix (0 = skill absent).
    Availability is a CSR list of inclusive day intervals, sorted and merged;
    ``always_available`` is true for employees that gave no ``available`` list.
    Preferences are a CSR list of ``(sector, weight)``.
    """

    ids: np.ndarray
    employer: np.ndarray  # int32, -1 = independent
    lat: np.ndarray
    lon: np.ndarray
    max_km: np.ndarray  # float64
    remote_ok: np.ndarray  # bool
    hours: np.ndarray  # float64 entitlement
    skill_level: np.ndarray  # uint8 (E, S)
    always_available: np.ndarray  # bool
    avail_ptr: np.ndarray  # int64
    avail_start: np.ndarray  # int32 day
    avail_end: np.ndarray  # int32 day (inclusive)
    pref_ptr: np.ndarray  # int64
    pref_sector: np.ndarray  # int32
    pref_weight: np.ndarray  # float64

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Missions:
    """Missions: association, location, requirements, seats, hours, date."""

    ids: np.ndarray
    association: np.ndarray  # int32
    lat: np.ndarray  # own location, or the association's
    lon: np.ndarray
    req_ptr: np.ndarray  # int64 CSR
    req_skill: np.ndarray  # int32 index into Problem.skills
    req_level: np.ndarray  # uint8 1..3
    seats: np.ndarray  # int32 >= 1
    min_seats: np.ndarray  # int32 1..seats
    hours: np.ndarray  # float64 > 0
    date: np.ndarray  # int32 day, NO_DATE = none
    remote: np.ndarray  # bool
    max_per_employer: np.ndarray  # int32, -1 = none

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Pairs:
    """A list of (employee, mission) index pairs with an optional score."""

    employee: np.ndarray  # int32
    mission: np.ndarray  # int32
    score: np.ndarray  # float64 (zeros for forced/forbidden)

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.employee)

    @staticmethod
    def empty() -> "Pairs":
        return Pairs(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64))


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated assignment problem (immutable).

    Attributes
    ----------
    employers, associations, employees, missions
        The four tables (see their classes).
    forced, forbidden, affinities
        Pair lists: pairs that must / must not be assigned, and a
        recommender's score per pair.
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

    @property
    def n_employees(self) -> int:
        return len(self.employees)

    @property
    def n_missions(self) -> int:
        return len(self.missions)

    def __repr__(self) -> str:
        return (
            f"Problem({self.n_employees} employees, {self.n_missions} missions, "
            f"{len(self.associations)} associations, {len(self.employers)} employers)"
        )

    # Constructors live in io.py; these thin wrappers keep one obvious entry point.
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
    ) -> "Problem":
        """Build and validate a problem from lists of dicts (``koeeo-match/1`` records)."""
        from .io import problem_from_dict

        return problem_from_dict(
            {
                "format": "koeeo-match/1",
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
    def from_frames(cls, **frames: Any) -> "Problem":
        """Build a problem from pandas DataFrames, one per record kind.

        Columns are the record fields of ``koeeo-match/1``; dict-valued fields
        (``skills``, ``prefers``) and list-valued ones (``available``,
        ``excluded_associations``) are cells holding dicts / lists.  Missing
        values (NaN/None) mean "field not given".  Requires pandas.
        """
        from .io import records_from_frame

        return cls.from_records(**{k: records_from_frame(v) for k, v in frames.items()})
