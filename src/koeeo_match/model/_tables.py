"""The tables of a problem, as immutable columnar numpy arrays.

A problem holds four tables (:class:`Employers`, :class:`Associations`,
:class:`Employees`, :class:`Missions`) and three optional :class:`Pairs`
lists (forced, forbidden, affinities).  Every reference between tables is a
dense ``int32`` index, ``-1`` meaning "none"; the caller's string ids are kept
in each table's ``ids`` array for output.  Variable-length attributes
(required skills, availability windows, cause preferences, employer
exclusions) are CSR pairs ``(ptr, values)``: the values of row ``i`` are
``values[ptr[i]:ptr[i + 1]]``.

Dates are integer days since 1970-01-01 (``numpy.datetime64`` days), and
:data:`NO_DATE` marks a mission without a date, and an employee's ``joined``
or a mission's ``posted`` day that is not given (known from the start).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = [
    "NO_DATE",
    "SMALL_ASSOCIATION_MAX_STAFF",
    "Associations",
    "Employees",
    "Employers",
    "Missions",
    "Pairs",
    "FIRST_DAY",
    "LAST_DAY",
    "format_day",
]

#: Sentinel date of a mission without a date (scheduled later by the parties), and of a
#: ``joined`` / ``posted`` day not given (the record is known from the start).
NO_DATE = np.int32(np.iinfo(np.int32).min)
_EPOCH = 719163  # date(1970, 1, 1).toordinal()
#: The calendar's first and last days (0001-01-01 and 9999-12-31) in the model's unit, days since 1970-01-01.
FIRST_DAY = 1 - _EPOCH
LAST_DAY = 3652059 - _EPOCH  # date(9999, 12, 31).toordinal()


def format_day(day: int) -> str:
    """``YYYY-MM-DD`` of a day counted from 1970-01-01 (the model's date unit).

    Parameters
    ----------
    day : int
        Days since 1970-01-01, as in ``Missions.date`` (not :data:`NO_DATE`).

    Returns
    -------
    str
        The ISO date.

    Examples
    --------
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
    Preferences are a CSR list of ``(sector, weight)``.  ``joined`` is the day
    the employee joined the platform (:data:`NO_DATE`: known from the start);
    a dated mission is open to them only if it is known before its date
    (DESIGN.md §8, :func:`~koeeo_match.candidates.eligibility.known_in_time`).
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
    joined: np.ndarray  # int32 day joined, NO_DATE = known from the start

    def __post_init__(self) -> None:
        _freeze(self)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Missions:
    """Missions: association, location, requirements, seats, hours, date, day posted.

    ``posted`` is the day the mission was published (:data:`NO_DATE`: known
    from the start); it is never after ``date``.
    """

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
    posted: np.ndarray  # int32 day posted, NO_DATE = known from the start

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
    def empty() -> Pairs:
        """An empty pair list.

        >>> len(Pairs.empty())
        0
        """
        return Pairs(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64))
