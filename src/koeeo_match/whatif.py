"""What-if variants of a problem: the same instance under a tighter rule.

Each helper returns a new, valid :class:`~koeeo_match.Problem` that shares
every unchanged array with the original (problems are immutable, so sharing
is safe) and replaces only the column it changes.  They answer questions
such as "what does a 30 km travel cap cost?" when passed to
:func:`koeeo_match.sweep` as ``variants``::

    km.sweep(problem, "max_hours", variants={
        "30 km cap": lambda p: km.whatif.travel_cap(p, 30),
        "2 a day per employer": lambda p: km.whatif.employer_daily_cap(p, 2),
    })

A rule only ever gets tighter: a cap larger than an existing one leaves the
existing one in place.  A forced pair that the new rule makes impossible
makes the variant infeasible (the solve says so), exactly as in a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from numbers import Real

import numpy as np

from ._params import InstanceOf, Interval, param_error, validate
from .errors import HOURS_BUDGET_MAX, HOURS_MAX
from .model import HOURS_UNITS, Problem, inexact_hour, problem_hours_issue

__all__ = ["travel_cap", "employer_daily_cap", "employer_hours_budget", "entitlement"]


_PROBLEM = [InstanceOf(Problem, "a Problem")]
#: What each helper's value may be: the range a file may hold for the same field (a value
#: beyond it would wrap or lose precision in the solvers' integer arithmetic).
_KM = [Interval(Real, 0, None, closed="left", finite=True)]
_DAILY_CAP = [Interval(Real, 0, 2**31 - 1, whole=True)]
_BUDGET = [Interval(Real, 0, HOURS_BUDGET_MAX, unit="hours")]
_HOURS = [Interval(Real, 0, HOURS_MAX, unit="hours")]


def _number(fn: str, problem: Problem, name: str, value: float, accepted: list) -> float:
    validate(fn, {"problem": _PROBLEM, name: accepted}, {"problem": problem, name: value})
    return float(value)


def _exact(fn: str, new: Problem, hours: float) -> Problem:
    """``new`` (the problem with ``hours`` set), unless ``hours`` has no exact unit, alone or with the
    problem's other hours (:mod:`koeeo_match.model`: the readers refuse those in files too)."""
    if inexact_hour(hours):
        raise param_error(fn, "hours", f"must be in {HOURS_UNITS}. Got {hours!r} instead.")
    joint = problem_hours_issue(new.missions, new.employees, new.employers)
    if joint is not None:
        raise param_error(fn, "hours", f"has no common exact unit with the problem's other hours: {joint.message}")
    return new


def _employer_mask(problem: Problem, employers: Sequence[str] | None, fn: str) -> np.ndarray:
    ids = problem.employers.ids
    if employers is None:
        return np.ones(len(ids), bool)
    if isinstance(employers, str):
        employers = [employers]
    if isinstance(employers, np.ndarray):
        employers = employers.tolist()
    if not isinstance(employers, Sequence) or not all(isinstance(e, str) for e in employers):
        raise param_error(fn, "employers", f"must be an employer id or a sequence of them. Got {employers!r} instead.")
    wanted = np.asarray(list(employers), dtype=object)
    if not wanted.size:  # a list that names no one changes no one: surely not what was meant
        raise param_error(fn, "employers", "must name at least one employer (None: every employer). Got [] instead.")
    known = set(ids.tolist())
    unknown = list(dict.fromkeys(e for e in wanted.tolist() if e not in known))  # each once, in order
    if unknown:
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        raise param_error(fn, "employers", f"names unknown employer id(s) {', '.join(map(repr, unknown[:20]))}{more}.")
    return np.isin(ids, wanted)


def travel_cap(problem: Problem, km: float) -> Problem:
    """Every employee travels at most ``km`` (one way): ``max_km = min(max_km, km)``.

    Remote missions stay open to ``remote_ok`` employees anywhere.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=60, seed=0)
    >>> q = km.whatif.travel_cap(p, 5)
    >>> float(q.employees.max_km.max()) <= 5, q.n_employees == p.n_employees
    (True, True)
    >>> policy = km.Policy.preset("max_hours")
    >>> len(km.build_candidates(q, policy)) < len(km.build_candidates(p, policy))
    True
    """
    cap = _number("travel_cap", problem, "km", km, _KM)
    e = problem.employees
    return dataclasses.replace(problem, employees=dataclasses.replace(e, max_km=np.minimum(e.max_km, cap)))


def employer_daily_cap(problem: Problem, cap: int, *, employers: Sequence[str] | None = None) -> Problem:
    """At most ``cap`` employees of each employer (or of those named) away on the same day.

    An existing smaller cap stays; independent volunteers (no employer) are
    not affected.  Missions without a date count toward no daily cap.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=60, seed=0)
    >>> q = km.whatif.employer_daily_cap(p, 1)
    >>> set(q.employers.daily_cap.tolist())
    {1}
    """
    c = int(_number("employer_daily_cap", problem, "cap", cap, _DAILY_CAP))
    er = problem.employers
    mask = _employer_mask(problem, employers, "employer_daily_cap")
    cur = er.daily_cap
    new = np.where(mask & ((cur < 0) | (cur > c)), c, cur).astype(np.int32)
    return dataclasses.replace(problem, employers=dataclasses.replace(er, daily_cap=new))


def employer_hours_budget(problem: Problem, hours: float, *, employers: Sequence[str] | None = None) -> Problem:
    """Each employer (or each one named) donates at most ``hours`` in total.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=60, seed=0)
    >>> float(km.whatif.employer_hours_budget(p, 14).employers.hours_budget.max())
    14.0
    """
    h = _number("employer_hours_budget", problem, "hours", hours, _BUDGET)
    er = problem.employers
    mask = _employer_mask(problem, employers, "employer_hours_budget")
    new = np.where(mask, np.minimum(er.hours_budget, h), er.hours_budget)
    return _exact("employer_hours_budget", dataclasses.replace(problem, employers=dataclasses.replace(
        er, hours_budget=new)), h)


def entitlement(problem: Problem, hours: float) -> Problem:
    """Every employee's annual entitlement set to ``hours`` (e.g. 14 for two days).

    Unlike the caps, this may loosen the problem: it answers "what if
    every employee had two days?".

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=60, seed=0)
    >>> set(km.whatif.entitlement(p, 14).employees.hours.tolist())
    {14.0}
    """
    h = _number("entitlement", problem, "hours", hours, _HOURS)
    e = problem.employees
    return _exact("entitlement", dataclasses.replace(problem, employees=dataclasses.replace(
        e, hours=np.full(len(e), h))), h)
