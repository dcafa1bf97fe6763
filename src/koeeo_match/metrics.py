"""Named figures of a solution (DESIGN.md §6).

=================================  ==================================================================
name                               meaning
=================================  ==================================================================
assigned_hours                     sum of assigned missions' hours
assignments                        number of (employee, mission) pairs
employees_assigned_share           employees with at least one mission / all employees
missions_filled_share              missions with every seat taken / all missions
missions_started_share             missions that run (>= 1 volunteer, and >= min_seats for teams)
associations_served_share          associations with an assigned volunteer / associations with a mission
mean_km, p95_km                    one-way distance per assignment (a remote mission done from home
                                   by a remote_ok employee counts 0 km; done in person, its km)
co2_kg                             0.19 kg per car-km, both ways, assignments done in person
gini_hours_by_association          Gini of hours received, over associations that posted missions
worst_decile_coverage_by_departement  mean of (hours assigned / hours demanded) over the worst 10 %
                                   of départements (associations mapped to the nearest
                                   département centroid); None if no association is in France
gini_hours_per_capita_by_departement  Gini of hours assigned per inhabitant, over départements
                                   that post missions (INSEE populations)
coverage_urban, coverage_intermediate, coverage_rural  hours assigned / hours demanded in
                                   départements of that density class
small_associations_served_share    small associations (``staff`` <= 2) with an assigned volunteer /
                                   small associations with a mission; None if no association
                                   with a mission has a known ``staff``, or none of them is small
hours_by_employer_size             {class: mean assigned hours per employee} over the employees of
                                   employers of each INSEE size class (``EMPLOYER_SIZE_CLASSES``:
                                   micro < 10, small 10-49, medium 50-249, intermediate 250-4999,
                                   large >= 5000 employees), plus ``independent`` (no employer);
                                   None for a class without employees.  An employer's size is its
                                   ``size`` field, or else the number of its employees in the problem
objective, bound, gap, solve_seconds  from the solver
=================================  ==================================================================
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np

from ._arrays import present
from ._geo import haversine_km
from ._params import InstanceOf, param_error, validate
from .candidates import trip_km
from .model import Problem
from .policy import CO2_KG_PER_KM
from .territory import departement_of, departements

__all__ = ["compute", "gini", "by_departement", "CO2_KG_PER_KM", "EMPLOYER_SIZE_CLASSES", "employer_size_class"]

#: INSEE company size classes (décret n° 2008-1354; "small" and "medium" split the PME
#: class at 50), as (name, smallest size); a class runs up to the next one's smallest size.
EMPLOYER_SIZE_CLASSES: tuple[tuple[str, int], ...] = (
    ("micro", 1), ("small", 10), ("medium", 50), ("intermediate", 250), ("large", 5000),
)


def employer_size_class(problem: Problem) -> np.ndarray:
    """Size class of each employer, an index into :data:`EMPLOYER_SIZE_CLASSES`.

    The size is the employer's ``size`` field when given, else the number of its
    employees in the problem (its volunteers only: usually an underestimate).

    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     employers=[{"id": "big", "size": 12000}, {"id": "shop"}],
    ...     employees=[{"id": "e", "employer": "shop", "lat": 45.0, "lon": 5.0}], missions=[])
    >>> [EMPLOYER_SIZE_CLASSES[c][0] for c in employer_size_class(p)]
    ['large', 'micro']
    """
    _problem("employer_size_class", problem)
    er = problem.employers
    counted = np.bincount(problem.employees.employer[problem.employees.employer >= 0], minlength=len(er))
    size = np.where(er.size >= 0, er.size, counted)
    lows = np.array([low for _, low in EMPLOYER_SIZE_CLASSES])
    return np.maximum(np.searchsorted(lows, size, side="right") - 1, 0)


def _problem(fn: str, problem: Any) -> None:
    """Refuse a ``problem`` that is not a :class:`Problem`, naming ``fn``."""
    validate(fn, {"problem": [InstanceOf(Problem, "a Problem")]}, {"problem": problem})


def _indices(fn: str, name: str, value: Any, n: int, noun: str) -> np.ndarray:
    """``value`` as a 1-d int64 array of indices in ``[0, n)``; else a parameter error naming ``fn``.

    One pass over the array (dtype, then its minimum and maximum): cheap next to the metrics.
    """
    if value is None or isinstance(value, (str, bytes)):
        raise param_error(fn, name, f"must be an array of integer indices into problem.{noun}. "
                          f"Got {reprlib.repr(value)} instead.")
    a = np.asarray(value)
    if a.size == 0:
        return np.zeros(0, np.int64)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        what = f"a {a.ndim}-d array" if a.ndim != 1 else f"an array of dtype {a.dtype}"
        ids = " (indices, not ids: a Solution holds them as .employee and .mission)" if a.dtype.kind in "OUS" else ""
        raise param_error(fn, name, f"must be a 1-d array of integer indices into problem.{noun}{ids}. "
                          f"Got {what} instead.")
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise param_error(fn, name, f"must hold indices into problem.{noun}, in the range [0, {n - 1}]. "
                          f"Got {bad} instead." if n else
                          f"must be empty: problem.{noun} is empty. Got index {bad}.")
    return a.astype(np.int64, copy=False)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal; 0 for all-zero input).

    Raises
    ------
    InvalidParameterError
        ``values`` is not an array of numbers, or holds a negative, NaN or infinite one.

    Examples
    --------
    >>> gini(np.array([1.0, 1.0, 1.0]))
    0.0
    >>> round(gini(np.array([0.0, 0.0, 3.0])), 4)
    0.6667
    """
    try:
        v = np.asarray(values, np.float64).reshape(-1) if values is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond the float range
        v = None
    if v is None:
        raise param_error("gini", "values", f"must be an array of non-negative numbers. Got {reprlib.repr(values)} "
                          "instead.")
    if v.size and not (v.min() >= 0 and v.max() < np.inf):  # a NaN fails both
        at = int(np.flatnonzero(~((v >= 0) & (v < np.inf)))[0])
        raise param_error("gini", "values", "must hold non-negative finite numbers (a Gini coefficient is defined "
                          f"for non-negative values). Got {float(v[at])} at position {at}.")
    v = np.sort(v)
    n = v.size
    if n == 0 or v.sum() == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float((2 * i - n - 1) @ v / (n * v.sum()))


def compute(problem: Problem, employee: np.ndarray, mission: np.ndarray) -> dict[str, Any]:
    """Every solution-dependent metric for assignments given as index arrays.

    Parameters
    ----------
    problem : Problem
    employee, mission : ndarray of int
        The assigned pairs, as indices into ``problem.employees`` and ``problem.missions``.

    Returns
    -------
    dict
        The figures of the module's table, by name (all but those that come from the
        solver: ``objective``, ``bound``, ``gap``, ``solve_seconds``).

    Raises
    ------
    InvalidParameterError
        ``problem`` is not a Problem; ``employee`` or ``mission`` is not a 1-d array of
        integer indices in range (None, ids, floats, a negative or too large index), or
        the two differ in length.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a", "hours": 7}])
    >>> out = compute(p, np.array([0]), np.array([0]))
    >>> out["assigned_hours"], out["employees_assigned_share"], out["missions_filled_share"]
    (7.0, 0.5, 1.0)
    """
    _problem("compute", problem)
    e, m, a = problem.employees, problem.missions, problem.associations
    E, M = len(e), len(m)
    employee = _indices("compute", "employee", employee, E, "employees")
    mission = _indices("compute", "mission", mission, M, "missions")
    if employee.size != mission.size:
        raise param_error("compute", "mission", f"must have one index per employee index: {mission.size} missions "
                          f"for {employee.size} employees.")
    hours = m.hours[mission]
    count = np.bincount(mission, minlength=M)
    runs = (count >= 1) & (count >= m.min_seats)
    km = trip_km(problem, employee, mission,
                 haversine_km(e.lat[employee], e.lon[employee], m.lat[mission], m.lon[mission]))
    posting = present(m.association, len(a))
    by_assoc = np.bincount(m.association[mission], weights=hours, minlength=len(a))
    served = present(m.association[mission], len(a)).size
    out: dict[str, Any] = {
        "assigned_hours": float(hours.sum()),
        "assignments": int(mission.size),
        "employees_assigned_share": float(present(employee, E).size / E) if E else 0.0,
        "missions_filled_share": float(np.count_nonzero(count >= m.seats) / M) if M else 0.0,
        "missions_started_share": float(np.count_nonzero(runs) / M) if M else 0.0,
        "associations_served_share": float(served / posting.size) if posting.size else 0.0,
        "mean_km": float(km.mean()) if km.size else 0.0,
        "p95_km": float(np.percentile(km, 95)) if km.size else 0.0,
        "co2_kg": float(2 * km.sum() * CO2_KG_PER_KM),
        "gini_hours_by_association": gini(by_assoc[posting]),
        **_territory(problem, mission),
        "small_associations_served_share": _small_served(problem, mission, posting),
        "hours_by_employer_size": _by_employer_size(problem, employee, hours),
    }
    return out


def _small_served(problem: Problem, mission: np.ndarray, posting: np.ndarray) -> float | None:
    """Small associations served / small associations posting; None when it is undefined."""
    a = problem.associations
    if not (a.staff[posting] >= 0).any():
        return None
    small = posting[a.small[posting]]
    if small.size == 0:
        return None
    served = np.zeros(len(a), bool)
    served[problem.missions.association[mission]] = True
    return float(served[small].sum() / small.size)


def _by_employer_size(problem: Problem, employee: np.ndarray, hours: np.ndarray) -> dict[str, float | None]:
    """Mean assigned hours per employee, by the size class of the employee's employer."""
    e = problem.employees
    n_cls = len(EMPLOYER_SIZE_CLASSES)
    # class per employee: employer's size class, n_cls for independents
    cls_of = np.append(employer_size_class(problem), n_cls)
    cls = cls_of[np.where(e.employer >= 0, e.employer, len(problem.employers))]
    heads = np.bincount(cls, minlength=n_cls + 1)
    got = np.bincount(cls[employee], weights=hours, minlength=n_cls + 1)
    names = [name for name, _ in EMPLOYER_SIZE_CLASSES] + ["independent"]
    return {n: float(got[i] / heads[i]) if heads[i] else None for i, n in enumerate(names)}


def by_departement(problem: Problem, mission: np.ndarray) -> dict[str, np.ndarray] | None:
    """Per-département figures of assignments, aligned with :func:`koeeo_match.territory.departements`.

    An association belongs to the département whose centre is nearest (within
    120 km); missions count where their association is.  Returns None when no
    association is in France.

    Parameters
    ----------
    problem : Problem
    mission : ndarray of int
        The assigned missions (one entry per assignment), as indices into ``problem.missions``.

    Returns
    -------
    dict of str to ndarray (one value per département)
        ``demand_hours`` (seat-hours posted), ``assigned_hours``, ``coverage``
        (assigned / demanded, NaN where nothing is posted) and
        ``hours_per_1000`` (assigned hours per 1,000 inhabitants).

    Raises
    ------
    InvalidParameterError
        ``problem`` is not a Problem, or ``mission`` is not a 1-d array of integer
        indices into ``problem.missions`` (None, ids, a negative or too large index).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0)
    >>> s = km.solve(p, method="greedy")
    >>> d = by_departement(p, s.mission)
    >>> float(d["assigned_hours"].sum()) == s.metrics["assigned_hours"]
    True
    """
    _problem("by_departement", problem)
    return _by_departement(problem, _indices("by_departement", "mission", mission, len(problem.missions), "missions"))


def _by_departement(problem: Problem, mission: np.ndarray) -> dict[str, np.ndarray] | None:
    """:func:`by_departement` for checked ``mission`` indices (int64)."""
    m = problem.missions
    dep = departement_of(problem.associations.lat, problem.associations.lon)
    if dep is None:
        return None
    md = dep[m.association]
    inside = md >= 0
    if not inside.any():
        return None
    D = departements()
    n = len(D)
    demand = np.bincount(md[inside], weights=(m.hours * m.seats)[inside], minlength=n)
    sel = md[mission]
    got = np.bincount(sel[sel >= 0], weights=m.hours[mission][sel >= 0], minlength=n)
    cov = np.full(n, np.nan)
    np.divide(got, demand, out=cov, where=demand > 0)
    return {"demand_hours": demand, "assigned_hours": got, "coverage": cov,
            "hours_per_1000": got / D.population * 1000.0}


def _territory(problem: Problem, mission: np.ndarray) -> dict[str, Any]:
    """Coverage (hours assigned / seat-hours demanded) by département of the association
    (nearest département centre): the worst decile's mean, by density class, and the Gini of
    hours per inhabitant across départements that post missions."""

    none = {"worst_decile_coverage_by_departement": None, "gini_hours_per_capita_by_departement": None,
            "coverage_urban": None, "coverage_intermediate": None, "coverage_rural": None}
    t = _by_departement(problem, mission)
    if t is None:
        return none
    D = departements()
    demand, got = t["demand_hours"], t["assigned_hours"]
    has = demand > 0
    if not has.any():  # no demand to cover (no mission of any seat): nothing to rank
        return none
    cov = np.sort(got[has] / demand[has])
    k = max(1, int(np.ceil(0.1 * cov.size)))
    out: dict[str, float | None] = {
        "worst_decile_coverage_by_departement": float(cov[:k].mean()),
        "gini_hours_per_capita_by_departement": gini(got[has] / D.population[has]),
    }
    for cls in ("urban", "intermediate", "rural"):
        c = has & (D.density_class == cls)
        out[f"coverage_{cls}"] = float(got[c].sum() / demand[c].sum()) if c.any() else None
    return out
