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

from ._params import Interval, param_error, validate
from .model import Problem

__all__ = ["travel_cap", "employer_daily_cap", "employer_hours_budget", "entitlement"]


#: A finite number >= 0 (km, hours); a whole one (a count of employees).
_AMOUNT = [Interval(Real, 0, None, closed="left", finite=True)]
_COUNT = [Interval(Real, 0, None, closed="left", finite=True, whole=True)]


def _number(value: float, name: str, fn: str, *, integer: bool = False) -> float:
    validate(fn, {name: _COUNT if integer else _AMOUNT}, {name: value})
    return float(value)


def _employer_mask(problem: Problem, employers: Sequence[str] | None, fn: str) -> np.ndarray:
    ids = problem.employers.ids
    if employers is None:
        return np.ones(len(ids), bool)
    if isinstance(employers, str):
        employers = [employers]
    wanted = np.asarray(list(employers), dtype=object)
    known = set(ids.tolist())
    unknown = [e for e in wanted.tolist() if e not in known]
    if unknown:
        raise param_error(fn, "employers", f"names unknown employer id {unknown[0]!r}.")
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
    cap = _number(km, "km", "travel_cap")
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
    c = int(_number(cap, "cap", "employer_daily_cap", integer=True))
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
    h = _number(hours, "hours", "employer_hours_budget")
    er = problem.employers
    mask = _employer_mask(problem, employers, "employer_hours_budget")
    new = np.where(mask, np.minimum(er.hours_budget, h), er.hours_budget)
    return dataclasses.replace(problem, employers=dataclasses.replace(er, hours_budget=new))


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
    h = _number(hours, "hours", "entitlement")
    e = problem.employees
    return dataclasses.replace(problem, employees=dataclasses.replace(e, hours=np.full(len(e), h)))
