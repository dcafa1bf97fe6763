"""The objective of a solution by term, the constraints that bind, and the difference between two."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._arrays import unique_sorted
from .._geo import haversine_km
from ..candidates import arc_terms
from ..model import NO_DATE, Problem
from ..policy import TERMS, Policy
from ._pairs import assigned_pairs, checked

if TYPE_CHECKING:
    from ..solution import Solution

__all__ = ["breakdown", "diff"]


def _binding(problem: Problem, se: np.ndarray, sm: np.ndarray) -> dict[str, int]:
    """How many employees, missions, teams, employer-days and employers sit at their limit."""
    E, M, er = problem.employees, problem.missions, problem.employers
    used = np.bincount(se, weights=M.hours[sm], minlength=len(E))
    count = np.bincount(sm, minlength=len(M))
    binding = {
        "employees_at_entitlement": int(np.count_nonzero((used >= E.hours - 1e-9) & (used > 0))),
        "missions_full": int(np.count_nonzero(count >= M.seats)),
        "teams_at_minimum": int(np.count_nonzero((M.min_seats > 1) & (count == M.min_seats))),
    }
    emp = E.employer[se]
    dated = (emp >= 0) & (M.date[sm] != NO_DATE)
    if dated.any():
        keys, n = np.unique(np.stack([emp[dated], M.date[sm][dated], se[dated]], 1)[:, :2], axis=0, return_counts=True)
        caps = er.daily_cap[keys[:, 0]]
        binding["employer_days_at_daily_cap"] = int(np.count_nonzero((caps >= 0) & (n >= caps)))
    if (emp >= 0).any():
        spent = np.bincount(emp[emp >= 0], weights=M.hours[sm][emp >= 0], minlength=len(er))
        at_budget = np.isfinite(er.hours_budget) & (spent >= er.hours_budget - 1e-9)
        binding["employers_at_budget"] = int(np.count_nonzero(at_budget))
    return binding


def breakdown(problem: Problem, solution: Solution, policy: Policy | str | None = None) -> dict[str, Any]:
    """The objective by term (weighted and raw totals) and the constraints that bind.

    Parameters
    ----------
    problem : Problem
    solution : Solution
    policy : Policy or str, optional
        Weighs the terms (a Policy, a preset name or weights); default: the solution's
        policy, else ``max_hours``.

    Returns
    -------
    dict
        ``objective``: the policy's objective of the assignments, as
        :attr:`Solution.objective <koeeo_match.Solution.objective>` reports it (for a
        lexicographic policy such as ``max_hours``, its primary terms alone);
        ``score``: every term weighted (the sum of the ``score`` column of
        :meth:`Solution.to_frame <koeeo_match.Solution.to_frame>`; equal to ``objective``
        when the policy has no primary terms); ``terms``: for each term its ``total``,
        ``weight`` and ``contribution`` (the contributions sum to ``score``); ``binding``:
        how many employees, missions, teams, employer-days and employers are at their limit.

    Raises
    ------
    InvalidParameterError
        A problem, solution or policy of the wrong kind.
    InvalidProblemError
        An assigned id that ``problem`` does not have (every one listed).  The solution's
        assignments are looked up by id unless it was solved on this very ``problem``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "hours": 7}],
    ...     missions=[{"id": "m1", "association": "a", "hours": 7}])
    >>> b = km.breakdown(p, km.solve(p, method="flow"))
    >>> b["terms"]["hours"]["total"], b["binding"]["employees_at_entitlement"]
    (7.0, 1)
    """
    policy = checked("breakdown", problem, policy, solution=solution)
    return _breakdown(problem, *assigned_pairs(problem, solution), policy)


def _breakdown(problem: Problem, se: np.ndarray, sm: np.ndarray, policy: Policy) -> dict[str, Any]:
    E, M = problem.employees, problem.missions
    km = haversine_km(E.lat[se], E.lon[se], M.lat[sm], M.lon[sm])
    terms = arc_terms(problem, se, sm, km)
    w = policy.weights()
    by_term = {t: {"total": float(terms[t].sum()), "weight": w[t], "contribution": float(w[t] * terms[t].sum())}
               for t in TERMS}
    score = policy.score(terms)
    objective = policy.score(terms, "primary") if policy.primary else score
    return {"objective": float(objective.sum()), "score": float(score.sum()), "terms": by_term,
            "binding": _binding(problem, se, sm)}


def _moves(problem: Problem, a: tuple[np.ndarray, np.ndarray],
           b: tuple[np.ndarray, np.ndarray]) -> list[dict[str, Any]]:
    """The employees whose set of missions differs between ``a`` and ``b`` (index arrays), by
    employee index, each with its missions before and after sorted by id."""
    E, M = problem.employees, problem.missions
    nm = max(len(M), 1)
    ka = unique_sorted(a[0] * nm + a[1])
    kb = unique_sorted(b[0] * nm + b[1])
    moved = unique_sorted(np.setxor1d(ka, kb, assume_unique=True) // nm)
    if moved.size == 0:
        return []
    ka, kb = (k[np.isin(k // nm, moved)] for k in (ka, kb))
    # the missions involved, ranked by id
    involved = unique_sorted(np.concatenate([ka % nm, kb % nm]))
    rank = np.zeros(nm, np.int64)
    rank[involved[np.argsort(M.ids[involved].astype(str), kind="stable")]] = np.arange(involved.size)
    sides = []
    for keys in (ka, kb):
        e, m = keys // nm, keys % nm
        # within each employee (keys are sorted by employee), missions by id
        order = np.lexsort((rank[m], e))
        ptr = np.searchsorted(e, np.append(moved, len(E)))  # e is sorted: each moved employee's run
        names = M.ids[m[order]].tolist()
        sides.append([names[lo:hi] for lo, hi in zip(ptr[:-1].tolist(), ptr[1:].tolist())])
    return [{"employee": eid, "from": x, "to": y} for eid, x, y in zip(E.ids[moved], *sides)]


def diff(problem: Problem, a: Solution, b: Solution, policy: Policy | str | None = None) -> dict[str, Any]:
    """Who moved from solution ``a`` to ``b``, and the change in each objective term.

    Returns
    -------
    dict
        ``moved``: for each employee whose missions differ (by employee order), its
        ``employee`` id and the mission ids it held ``from`` (in ``a``) and holds ``to``
        (in ``b``), sorted; ``terms``: each term's total in ``b`` minus in ``a``;
        ``objective`` and ``score``: the same for the policy's objective and for its score
        with every term (see :func:`breakdown`).  With ``policy`` None, each solution is
        weighed by its own policy (else ``max_hours``).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "hours": 7}],
    ...     missions=[{"id": "m1", "association": "a", "hours": 7}, {"id": "m2", "association": "a", "hours": 3.5}])
    >>> s = km.solve(p, method="flow")
    >>> km.diff(p, s, km.Solution.from_dict({**s.to_dict(), "assignments": []}))["moved"]
    [{'employee': 'e1', 'from': ['m1'], 'to': []}]
    """
    pol_a = checked("diff", problem, policy, a=a, b=b)
    pol_b = pol_a if policy is not None else checked("diff", problem, None, b=b)
    pa, pb = assigned_pairs(problem, a), assigned_pairs(problem, b)
    ba, bb = _breakdown(problem, *pa, pol_a), _breakdown(problem, *pb, pol_b)
    moved = _moves(problem, pa, pb)
    return {"moved": moved, "terms": {t: bb["terms"][t]["total"] - ba["terms"][t]["total"] for t in TERMS},
            "objective": bb["objective"] - ba["objective"], "score": bb["score"] - ba["score"]}
