"""The objective terms of arcs (see :mod:`koeeo_match.policy`), computed on arrays of pairs."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

import numpy as np

from ..model import Problem
from ..policy import CO2_KG_PER_KM, TERMS
from ..territory import departement_of, departements
from ._tables import lookup_sorted, n_req, pair_keys, per_problem, sorted_table

__all__ = ["ArcTerms", "arc_terms", "rural_associations", "trip_km"]


def _rural(problem: Problem) -> np.ndarray:
    a = problem.associations
    dep = departement_of(a.lat, a.lon)
    rural = np.zeros(len(a), bool)
    if dep is not None:
        inside = dep >= 0
        rural[inside] = departements().density_class[dep[inside]] == "rural"
    rural.setflags(write=False)
    return rural


def trip_km(problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray) -> np.ndarray:
    """One-way km travelled for each pair at one-way distance ``km``: 0 for a remote mission done
    from home (the employee is ``remote_ok``), ``km`` otherwise, a remote mission done in person by
    another employee within ``max_km`` included (DESIGN.md §4).  The ``travel_km`` and ``co2_kg``
    terms, the metrics and the solution frame all read distances through it.

    >>> import numpy as np, koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "home", "lat": 45.0, "lon": 5.0, "remote_ok": True},
    ...                {"id": "car", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "r", "association": "a", "remote": True}])
    >>> trip_km(p, np.array([0, 1]), np.array([0, 0]), np.array([12.0, 12.0])).tolist()
    [0.0, 12.0]
    """
    return np.where(problem.missions.remote[ma] & problem.employees.remote_ok[ea], 0.0, km)


def rural_associations(problem: Problem) -> np.ndarray:
    """Boolean mask of associations in a rural département (nearest département centre
    within 120 km, density class ``rural``); all false outside France.  Cached per problem.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "lozere", "lat": 44.52, "lon": 3.50}, {"id": "paris", "lat": 48.86, "lon": 2.35},
    ...                   {"id": "null-island", "lat": 0.0, "lon": 0.0}],
    ...     employees=[{"id": "e", "lat": 48.86, "lon": 2.35}], missions=[{"id": "m", "association": "paris"}])
    >>> rural_associations(p).tolist()
    [True, False, False]
    """
    return per_problem(problem, "rural", _rural)


def _preferences(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Each employee's sector preferences as a table sorted by (employee, sector) key."""
    e = problem.employees
    owner = np.repeat(np.arange(len(e), dtype=np.int64), np.diff(e.pref_ptr))
    return sorted_table(pair_keys(owner, e.pref_sector, max(len(problem.sectors), 1)), e.pref_weight)


def _affinities(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The affinity scores as a table sorted by (employee, mission) key."""
    af = problem.affinities
    return sorted_table(pair_keys(af.employee, af.mission, len(problem.missions)), af.score)


def _skill_fit(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Mean over a mission's requirements of ``1 - 0.25 * (level held - level required)``."""
    e, m = problem.employees, problem.missions
    n = n_req(problem)
    fit = np.zeros(ea.size)
    for k in range(int(n.max()) if n.size else 0):  # one pass per requirement rank, not per arc
        has = n[ma] > k
        idx = m.req_ptr[ma[has]] + k
        excess = e.skill_level[ea[has], m.req_skill[idx]].astype(np.float64) - m.req_level[idx]
        fit[has] += 1.0 - 0.25 * excess
    return np.divide(fit, n[ma], out=np.zeros_like(fit), where=n[ma] > 0)


def _preference(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """The employee's preference weight for the sector of the mission's association."""
    sector = problem.associations.sector[problem.missions.association[ma]]
    keys, vals = per_problem(problem, "prefs", _preferences)
    pref = lookup_sorted(pair_keys(ea, np.maximum(sector, 0), max(len(problem.sectors), 1)), keys, vals)
    pref[sector < 0] = 0.0
    return pref


def arc_terms(
    problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray, names: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """Objective terms (see :mod:`koeeo_match.policy`) for the given arcs: every term, or
    only ``names`` (what a policy with some zero weights needs).

    Parameters
    ----------
    problem : Problem
    ea, ma : ndarray of int
        Employee and mission index of each arc.
    km : ndarray of float
        One-way distance of each arc.
    names : collection of str, optional
        The terms wanted (default: every term of :data:`koeeo_match.TERMS`).  None wanted (a
        policy whose weights are all 0) gives the ``seats`` term alone, so that a score of the
        terms (:meth:`~koeeo_match.Policy.score`) still has one value per arc.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0)
    >>> t = arc_terms(p, np.array([0]), np.array([0]), np.array([4.0]), ["seats", "travel_km"])
    >>> sorted(t), t["seats"].tolist()
    (['seats', 'travel_km'], [1.0])
    """
    m, a = problem.missions, problem.associations
    want = set(TERMS if names is None else names) or {"seats"}
    out: dict[str, np.ndarray] = {}
    hours = m.hours[ma]
    if "hours" in want:
        out["hours"] = hours
    if "seats" in want:
        out["seats"] = np.ones(ea.size)
    if "skill_fit" in want:
        out["skill_fit"] = _skill_fit(problem, ea, ma)
    if "preference" in want:
        out["preference"] = _preference(problem, ea, ma)
    if "priority" in want:
        out["priority"] = a.priority[m.association[ma]] * hours
    if "travel_km" in want or "co2_kg" in want:
        trip = 2.0 * trip_km(problem, ea, ma, km)  # the round trip
        if "travel_km" in want:
            out["travel_km"] = trip
        if "co2_kg" in want:
            out["co2_kg"] = CO2_KG_PER_KM * trip
    if "small_association" in want:
        out["small_association"] = np.where(a.small[m.association[ma]], hours, 0.0)
    if "rural" in want:
        out["rural"] = np.where(rural_associations(problem)[m.association[ma]], hours, 0.0)
    if "affinity" in want:
        keys, vals = per_problem(problem, "affinities", _affinities)
        out["affinity"] = lookup_sorted(pair_keys(ea, ma, len(m)), keys, vals)
    return out


class ArcTerms(Mapping[str, np.ndarray]):
    """The objective terms of a graph's arcs (see :mod:`koeeo_match.policy`), each computed on
    first use: a graph built for one policy computes the terms that policy weighs; others (for
    an objective breakdown, or :func:`rescore`) are computed when asked for, then kept.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0)
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> sorted(g.terms) == sorted(km.TERMS) and g.terms["co2_kg"].shape == g.km.shape
    True
    """

    def __init__(self, problem: Problem, ea: np.ndarray, ma: np.ndarray, km: np.ndarray,
                 computed: Mapping[str, np.ndarray] | None = None) -> None:
        self._problem, self._ea, self._ma, self._km = problem, ea, ma, km
        self._computed: dict[str, np.ndarray] = dict(computed or {})

    def __getitem__(self, name: str) -> np.ndarray:
        v = self._computed.get(name)
        if v is None:
            if name not in TERMS:
                raise KeyError(name)
            v = self._computed[name] = arc_terms(self._problem, self._ea, self._ma, self._km, [name])[name]
        return v

    def __iter__(self) -> Iterator[str]:
        return iter(TERMS)

    def __len__(self) -> int:
        return len(TERMS)

    def subset(self, arcs: np.ndarray) -> ArcTerms:
        """The terms of the arcs ``arcs`` (indices), sharing nothing with this mapping."""
        return ArcTerms(self._problem, self._ea[arcs], self._ma[arcs], self._km[arcs],
                        {k: v[arcs] for k, v in self._computed.items()})
