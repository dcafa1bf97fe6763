"""What is known of arc scores before any arc is built: a scale, and per-node bounds.

A priced graph (:mod:`koeeo_match.solvers.priced`) adds arcs round after round, so its
integer scores cannot be scaled from the arcs it holds, as :func:`~koeeo_match.candidates.
build_candidates` does: :func:`problem_scale` scales them from the values each objective term
can take in the problem (mission by mission for the mission-level terms, extremes for the
others), so that every eligible arc scores on the one scale.

:func:`score_bounds` bounds the integer score of any eligible pair ``(e, m)`` at distance
``km`` (one way) by ``A[m] + B[e] - G * km`` (remote missions done from home: ``A[m] + B[e]``): the pricing
scan uses it to skip, without testing them, the pairs that cannot beat the current prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Problem
from ..policy import CO2_KG_PER_KM, COSTS, IntegerScores, Policy, cost_limit, integer_scores
from ._tables import n_req, per_problem
from ._terms import arc_terms

__all__ = ["ScoreBounds", "MISSION_TERMS", "employee_bounds", "problem_scale", "score_bounds"]

#: Terms whose value depends on the mission alone (and on nothing of the employee).
MISSION_TERMS = ("hours", "seats", "priority", "small_association", "rural")


def _mission_terms(problem: Problem, names: list[str]) -> dict[str, np.ndarray]:
    """The mission-level terms of each mission (one row per mission)."""
    M = problem.n_missions
    return arc_terms(problem, np.zeros(M, np.int64), np.arange(M), np.zeros(M), names)


def _pair_ranges(problem: Problem) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per employee, the (lowest, highest) value each employee-dependent term can take (arrays
    of one value per employee); costs as their largest value."""
    e, af = problem.employees, problem.affinities
    E = problem.n_employees
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    top = float(e.skill_level.max()) if e.skill_level.size else 0.0
    out["skill_fit"] = (np.full(E, min(0.0, 1.0 - 0.25 * top)), np.ones(E))
    for name, owner, vals in (
        ("preference", np.repeat(np.arange(E), np.diff(e.pref_ptr)), e.pref_weight),
        ("affinity", af.employee, af.score),
    ):
        lo, hi = np.zeros(E), np.zeros(E)
        if vals.size:
            np.minimum.at(lo, owner, vals)
            np.maximum.at(hi, owner, vals)
        out[name] = (lo, hi)
    reach = 2.0 * (e.max_km if E else np.zeros(0))
    out["travel_km"] = (np.zeros(E), reach)
    out["co2_kg"] = (np.zeros(E), CO2_KG_PER_KM * reach)
    return out


def problem_scale(problem: Problem, policy: Policy, max_arcs: int) -> IntegerScores:
    """The integer scale of every eligible arc of ``problem`` for ``policy``.

    :func:`~koeeo_match.policy.integer_scores` is given pseudo-arcs: each mission's
    mission-level terms, every value the exact employee-dependent terms take (so that the
    factor making primary values integers holds for every arc), and two extreme arcs holding
    every term at its largest and at its smallest value (so that the multiplier of a
    lexicographic policy exceeds any total of secondary scores).  ``max_arcs`` bounds the
    arcs a graph on this scale may hold (the solvers' integer range depends on it; 0: the
    scores need only keep int64 totals, not OR-Tools' cost range over such a network).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0)
    >>> pol = km.Policy.preset("max_hours")
    >>> g = km.build_candidates(p, pol)
    >>> sc = problem_scale(p, pol, max_arcs=len(g))
    >>> s = sc.apply(pol, {t: g.terms[t] for t in ("hours", "skill_fit", "travel_km")})
    >>> bool((sc.primary(s) == np.round(g.terms["hours"] * sc.primary_scale)).all())
    True
    """
    weighted = [t for t, w in policy.weights().items() if w]
    mission = [t for t in weighted if t in MISSION_TERMS]
    M, E = problem.n_missions, problem.n_employees
    per_m = _mission_terms(problem, mission) if mission and M else {t: np.zeros(0) for t in mission}
    ranges = _pair_ranges(problem)
    nr = np.unique(n_req(problem))
    exact = {  # every value an exact employee-dependent term takes (its exact factor holds for all)
        "skill_fit": np.concatenate([[1.0, 0.0], 0.25 / np.maximum(nr[nr > 0], 1)]),
        "preference": problem.employees.pref_weight,
        "affinity": problem.affinities.score,
    }
    blocks: list[dict[str, np.ndarray]] = [per_m] + [{t: exact[t]} for t in weighted if t in exact]
    for t in weighted:  # distances are continuous: no factor makes them integers (as on real arcs)
        if t in COSTS and E and float(ranges[t][1].max()) > 0:
            blocks.append({t: np.array([float(ranges[t][1].max()) / np.sqrt(2.0)])})
    lo_row: dict[str, np.ndarray] = {}
    hi_row: dict[str, np.ndarray] = {}
    for t in weighted:  # each term's range, 0 included: every arc lies between the extreme rows
        v = per_m[t] if t in per_m else np.concatenate(ranges[t]) if E else np.zeros(0)
        lo, hi = (min(float(v.min()), 0.0), max(float(v.max()), 0.0)) if v.size else (0.0, 0.0)
        if t in COSTS:  # weighed negatively: its largest value makes the lowest score
            lo, hi = hi, lo
        lo_row[t], hi_row[t] = np.array([lo]), np.array([hi])
    blocks += [hi_row, lo_row]
    rows = {t: np.concatenate([b[t] if t in b else np.zeros(len(next(iter(b.values()), ()))) for b in blocks])
            for t in weighted}
    seats = int(problem.missions.seats.sum())
    n_max = max(1, min(seats, max_arcs) if max_arcs else seats)
    return integer_scores(policy, rows, max_assignments=n_max, limit=cost_limit(E, M, max_arcs), arcs=False)


@dataclass(frozen=True)
class ScoreBounds:
    """``score(e, m) <= mission[m] + employee[e] - per_km * km`` for every eligible pair at
    ``km`` one-way kilometres (``per_km`` does not apply to remote missions done from home), in the integer
    units of the scale they were computed for, as float64 (compare with a margin)."""

    mission: np.ndarray
    employee: np.ndarray
    per_km: float


def score_bounds(problem: Problem, policy: Policy, scale: IntegerScores) -> ScoreBounds:
    """Upper bounds of the integer scores (``scale``) of ``problem``'s eligible arcs.

    Mission-level terms are the mission's own; ``skill_fit`` is at most 1; ``preference`` and
    ``affinity`` at most the employee's largest (or 0); costs are ``2 km`` (and ``0.19``
    kg of CO2 per km) away from a remote mission done from home, 0 at one.  Rounding to integers is
    accounted for: a primary value is an exact integer, a secondary one is within 1/2.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0)
    >>> pol = km.Policy.preset("max_hours")
    >>> g = km.build_candidates(p, pol)
    >>> sc = problem_scale(p, pol, max_arcs=len(g))
    >>> b = score_bounds(p, pol, sc)
    >>> s = sc.apply(pol, {t: g.terms[t] for t in ("hours", "skill_fit", "travel_km")})
    >>> ub = b.mission[g.mission] + b.employee[g.employee] - b.per_km * np.where(
    ...     p.missions.remote[g.mission] & p.employees.remote_ok[g.employee], 0.0, g.km)
    >>> bool((s <= ub + 1e-9 * np.abs(ub)).all())
    True
    """
    w = policy.weights()
    M = problem.n_missions
    mission_terms = [t for t in MISSION_TERMS if w[t]]
    per_m = _mission_terms(problem, mission_terms) if mission_terms and M else {t: np.zeros(0) for t in mission_terms}
    prim = set(policy.primary) if scale.lexicographic else set()
    a_p, a_s = np.zeros(M), np.zeros(M)
    per_km = 0.0
    for t, wt in w.items():
        if not wt:
            continue
        if t in MISSION_TERMS:
            if t in prim:
                a_p += wt * per_m[t]
            else:
                a_s += wt * per_m[t]
        elif t == "travel_km":
            per_km += -wt * 2.0
        elif t == "co2_kg":
            per_km += -wt * 2.0 * CO2_KG_PER_KM
    employee = employee_bounds(problem, policy, scale, np.arange(problem.n_employees))
    if scale.lexicographic:
        f, mult, s = scale.primary_scale, float(scale.multiplier), scale.secondary_scale
        # a primary value is an exact integer: mission-level ones exactly (employee-level ones in employee_bounds)
        return ScoreBounds(mult * np.round(a_p * f) + s * a_s, employee, s * per_km)
    s = scale.secondary_scale
    return ScoreBounds(s * a_s, employee, s * per_km)


def employee_bounds(problem: Problem, policy: Policy, scale: IntegerScores, emps: np.ndarray,
                    skill_fit: np.ndarray | None = None) -> np.ndarray:
    """The employee side ``B[e]`` of :func:`score_bounds` for the employees ``emps``: with
    ``skill_fit`` given (one value per employee, its exact value against missions that all
    require the same skills at the same levels), that value replaces its bound 1.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0)
    >>> pol = km.Policy.preset("max_hours")
    >>> sc = problem_scale(p, pol, max_arcs=10_000)
    >>> b = employee_bounds(p, pol, sc, np.arange(3))
    >>> bool((employee_bounds(p, pol, sc, np.arange(3), np.full(3, 0.5)) < b).all())
    True
    """
    w = policy.weights()
    ranges = per_problem(problem, "pair_ranges", _pair_ranges)
    prim = set(policy.primary) if scale.lexicographic else set()
    b_p, b_s = np.zeros(emps.size), np.zeros(emps.size)
    for t, wt in w.items():
        if not wt or t in MISSION_TERMS or t in COSTS:
            continue
        hi = skill_fit if t == "skill_fit" and skill_fit is not None else ranges[t][1][emps]
        if t in prim:
            b_p += wt * hi
        else:
            b_s += wt * hi
    if scale.lexicographic:
        f, mult, s = scale.primary_scale, float(scale.multiplier), scale.secondary_scale
        # a primary value is an exact integer: employee-level ones rounded at most 1/2 up
        return mult * np.floor(b_p * f + 0.5 + 1e-9) + s * b_s + 0.5
    return scale.secondary_scale * b_s + 0.5
