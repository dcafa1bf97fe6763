"""The eligibility rules of DESIGN.md §4, one boolean mask per rule over arrays of pairs.

A pair ``(ea[i], ma[i])`` (employee, mission indices) is eligible when the employee has every
required skill at the required level (:func:`skills_ok`), is available on the mission's date
(:func:`dates_ok`), both the employee and a dated mission are known before its date
(:func:`known_in_time`), the employee's employer does not exclude the mission's association
(:func:`not_excluded`), the pair is not ``forbidden`` (:func:`not_forbidden`), and the mission
is within the employee's ``max_km`` or is remote and the employee ``remote_ok``
(:func:`within_reach`).  :func:`filter_eligible` applies them all and returns the eligible
pairs with their one-way distance; the candidate graph and the explanations both use it.
"""

from __future__ import annotations

import numpy as np

from .._geo import chord_of_km, haversine_km, unit_vectors
from ..model import NO_DATE, Problem
from ._tables import in_sorted, n_req, pair_keys, per_problem

__all__ = [
    "dates_ok", "filter_eligible", "known_in_time", "not_excluded", "not_forbidden", "skills_ok", "within_reach",
]


def skills_ok(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mask of the pairs whose employee has every skill the mission requires, at its level.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "e1", **here, "skills": {"python": 2}}, {"id": "e2", **here}],
    ...     missions=[{"id": "m", "association": "a", "skills": {"python": 1}}],
    ...     associations=[{"id": "a", **here}])
    >>> skills_ok(p, np.array([0, 1]), np.array([0, 0])).tolist()
    [True, False]
    """
    m, lv = problem.missions, problem.employees.skill_level
    n = n_req(problem)
    ok = np.ones(ea.size, bool)
    for k in range(int(n.max()) if n.size else 0):  # one pass per requirement rank, not per arc
        has = n[ma] > k
        idx = m.req_ptr[ma[has]] + k
        ok[has] &= lv[ea[has], m.req_skill[idx]] >= m.req_level[idx]
    return ok


def _availability(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(owner, key) of each availability interval, the key ``owner << 33 | start + 2**31``
    ascending (intervals are sorted by employee then start)."""
    e = problem.employees
    owner = np.repeat(np.arange(len(e), dtype=np.int64), np.diff(e.avail_ptr))
    return owner, (owner << 33) + (e.avail_start.astype(np.int64) + 2**31)


def dates_ok(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mask of the pairs whose employee is available on the mission's date (or it has none).

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "e1", **here, "available": ["2027-03-01/2027-03-31"]},
    ...                {"id": "e2", **here, "available": ["2027-04-01"]}],
    ...     missions=[{"id": "m", "association": "a", "date": "2027-03-12"}],
    ...     associations=[{"id": "a", **here}])
    >>> dates_ok(p, np.array([0, 1]), np.array([0, 0])).tolist()
    [True, False]
    """
    e = problem.employees
    d = problem.missions.date[ma]
    ok = (d == NO_DATE) | e.always_available[ea]
    todo = ~ok
    if todo.any() and e.avail_start.size:
        owner, key = per_problem(problem, "avail", _availability)
        q = (ea[todo].astype(np.int64) << 33) + (d[todo].astype(np.int64) + 2**31)
        pos = np.searchsorted(key, q, side="right") - 1  # the last interval starting on or before the date
        posc = np.maximum(pos, 0)
        ok[todo] = (pos >= 0) & (owner[posc] == ea[todo]) & (e.avail_end[posc] >= d[todo])
    return ok


def _timed(problem: Problem) -> bool:
    """Whether any employee's ``joined`` or dated mission's ``posted`` is given."""
    m = problem.missions
    return bool((problem.employees.joined != NO_DATE).any() or ((m.posted != NO_DATE) & (m.date != NO_DATE)).any())


def known_in_time(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mask of the pairs known before the mission happens: ``max(joined, posted) < date``.

    DESIGN.md §8: a dated mission may go to an employee only if the employee
    joined and the mission was posted strictly before the mission's date (joining
    on the day itself is too late).  A missing ``joined`` or ``posted``
    (:data:`~koeeo_match.model.NO_DATE`) means known from the start; a mission
    without a date has no deadline.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "early", **here, "joined": "2027-03-11"}, {"id": "late", **here, "joined": "2027-03-12"},
    ...                {"id": "always", **here}],
    ...     missions=[{"id": "m", "association": "a", "date": "2027-03-12"}],
    ...     associations=[{"id": "a", **here}])
    >>> known_in_time(p, np.array([0, 1, 2]), np.array([0, 0, 0])).tolist()
    [True, False, True]
    """
    if not per_problem(problem, "timed", _timed):  # no joined / posted given: nothing to test
        return np.ones(ea.size, bool)
    m = problem.missions
    d = m.date[ma]
    # NO_DATE is int32's minimum: below every date, so "missing" needs no special case in the max
    known = np.maximum(problem.employees.joined[ea], m.posted[ma])
    return (d == NO_DATE) | (known < d)


def _exclusions(problem: Problem) -> np.ndarray:
    """Sorted keys of the (employer, excluded association) pairs."""
    er = problem.employers
    owner = np.repeat(np.arange(len(er), dtype=np.int64), np.diff(er.excl_ptr))
    return np.sort(pair_keys(owner, er.excl_assoc, len(problem.associations)))


def not_excluded(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mask of the pairs whose mission's association the employee's employer does not exclude.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employers=[{"id": "acme", "excluded_associations": ["a"]}],
    ...     employees=[{"id": "e1", **here, "employer": "acme"}, {"id": "e2", **here}],
    ...     missions=[{"id": "m", "association": "a"}], associations=[{"id": "a", **here}])
    >>> not_excluded(p, np.array([0, 1]), np.array([0, 0])).tolist()
    [False, True]
    """
    if problem.employers.excl_assoc.size == 0:
        return np.ones(ea.size, bool)
    table = per_problem(problem, "excluded", _exclusions)
    emp = problem.employees.employer[ea]
    keys = pair_keys(np.maximum(emp, 0), problem.missions.association[ma], len(problem.associations))
    return ~((emp >= 0) & in_sorted(keys, table))


def _forbidden(problem: Problem) -> np.ndarray:
    """Sorted keys of the forbidden (employee, mission) pairs."""
    fb = problem.forbidden
    return np.sort(pair_keys(fb.employee, fb.mission, len(problem.missions)))


def not_forbidden(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mask of the pairs that are not listed in ``forbidden``.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "e1", **here}, {"id": "e2", **here}], missions=[{"id": "m", "association": "a"}],
    ...     associations=[{"id": "a", **here}], forbidden=[{"employee": "e2", "mission": "m"}])
    >>> not_forbidden(p, np.array([0, 1]), np.array([0, 0])).tolist()
    [True, False]
    """
    if not len(problem.forbidden):
        return np.ones(ea.size, bool)
    return ~in_sorted(pair_keys(ea, ma, len(problem.missions)), per_problem(problem, "forbidden", _forbidden))


def within_reach(problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Mask of the pairs within the employee's ``max_km`` (``km``: their one-way distance), or
    whose mission is remote and employee ``remote_ok``.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "e1", **here, "max_km": 30}, {"id": "e2", **here, "max_km": 30, "remote_ok": True}],
    ...     missions=[{"id": "m", "association": "a", "remote": True}],
    ...     associations=[{"id": "a", **here}])
    >>> within_reach(p, np.array([0, 1]), np.array([0, 0]), np.array([50.0, 50.0])).tolist()
    [False, True]
    """
    e = problem.employees
    return (problem.missions.remote[ma] & e.remote_ok[ea]) | (km <= e.max_km[ea])


def _reach(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors of employees and missions, and the squared chord of each employee's reach
    (with a margin: a prefilter that never rejects an eligible pair)."""
    e, m = problem.employees, problem.missions
    return unit_vectors(e.lat, e.lon), unit_vectors(m.lat, m.lon), (chord_of_km(e.max_km) * (1 + 1e-6) + 1e-9) ** 2


def _maybe_within_reach(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """A superset of :func:`within_reach` by a chord test on unit vectors, without distances."""
    e_xyz, m_xyz, reach2 = per_problem(problem, "reach", _reach)
    anywhere = problem.missions.remote[ma] & problem.employees.remote_ok[ea]
    diff = e_xyz[ea] - m_xyz[ma]
    return anywhere | (np.einsum("ij,ij->i", diff, diff) <= reach2[ea])


def filter_eligible(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the eligible pairs; return them with their one-way km.

    A chord test on unit vectors (cheap, with a margin so that it never
    rejects an eligible pair) comes first; the haversine distance that
    decides eligibility is computed for the survivors only.

    Parameters
    ----------
    problem : Problem
    ea, ma : ndarray of int
        Employee and mission index of each pair.

    Returns
    -------
    ea, ma : ndarray of int32
        The eligible pairs, in their given order.
    km : ndarray of float64
        Their one-way great-circle distance.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> here = {"lat": 45.0, "lon": 5.0}
    >>> p = km.Problem.from_records(
    ...     employees=[{"id": "near", "lat": 45.0, "lon": 5.0}, {"id": "far", "lat": 48.86, "lon": 2.35}],
    ...     missions=[{"id": "m", "association": "a"}], associations=[{"id": "a", "lat": 45.01, "lon": 5.0}])
    >>> ea, ma, d = filter_eligible(p, np.array([0, 1]), np.array([0, 0]))
    >>> ea.tolist(), ma.tolist(), d.round(2).tolist()
    ([0], [0], [1.11])
    """
    e, m = problem.employees, problem.missions
    ea, ma = ea.astype(np.int32, copy=False), ma.astype(np.int32, copy=False)
    ok = _maybe_within_reach(problem, ea, ma)
    ea, ma = ea[ok], ma[ok]
    ok = skills_ok(problem, ea, ma)
    ok &= dates_ok(problem, ea, ma)
    ok &= known_in_time(problem, ea, ma)
    ok &= not_excluded(problem, ea, ma)
    ok &= not_forbidden(problem, ea, ma)
    ea, ma = ea[ok], ma[ok]
    km = haversine_km(e.lat[ea], e.lon[ea], m.lat[ma], m.lon[ma])
    ok = within_reach(problem, ea, ma, km)
    return ea[ok], ma[ok], km[ok]
