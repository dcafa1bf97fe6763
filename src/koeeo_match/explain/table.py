"""A solution as a table: one row per assignment, with what an analyst joins on and the policy's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._arrays import index_of
from .._geo import haversine_km
from ..candidates import arc_terms, trip_km
from ..errors import InvalidProblemError, Issue
from ..model import NO_DATE, Problem
from ..policy import TERMS, Policy
from ..territory import departement_of, departements

if TYPE_CHECKING:
    from ..solution import Solution

__all__ = ["solution_frame"]


def _pairs(problem: Problem, solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    """(employee, mission) indices of the assignments in ``problem``; every unknown id is an issue."""
    if solution.problem is problem and solution.employee is not None and solution.mission is not None:
        return np.asarray(solution.employee, np.int64), np.asarray(solution.mission, np.int64)
    eids, mids = np.asarray(solution.employee_ids).astype(str), np.asarray(solution.mission_ids).astype(str)
    e = index_of(np.asarray(problem.employees.ids).astype(str), eids)
    m = index_of(np.asarray(problem.missions.ids).astype(str), mids)
    issues = [Issue("assignment", f"#{i}", kind, f"{kind} {ids[i]!r} is not in the problem")
              for kind, ids, at in (("employee", eids, e), ("mission", mids, m)) for i in np.flatnonzero(at < 0)]
    if issues:
        raise InvalidProblemError(issues)
    return e, m


def _departement_codes(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """INSEE code of the nearest département (within 120 km), None elsewhere."""
    out = np.full(lat.size, None, dtype=object)
    dep = departement_of(lat, lon)
    if dep is not None:
        out[dep >= 0] = departements().code[dep[dep >= 0]]
    return out


def solution_frame(solution: Solution, problem: Problem | None = None, policy: Policy | None = None) -> Any:
    """The assignments of a solution as a pandas DataFrame, one row per assignment.

    Parameters
    ----------
    solution : Solution
    problem : Problem, optional
        The problem it solves; default: the solution's own (a solution read
        from a file has ids only, and needs it).
    policy : Policy, optional
        Whose terms to add; default: the solution's (none for a solution read from a file).

    Returns
    -------
    pandas.DataFrame
        Columns ``employee``, ``mission``, ``association``, ``employer``
        (None for an independent volunteer), ``date`` (``datetime64[s]``,
        NaT when undated), ``hours``, ``km`` (one-way great-circle km, 0 for
        a remote mission done from home by a ``remote_ok`` employee, as in the metrics), ``remote``, ``departement``
        (INSEE code of the mission's place, via :func:`koeeo_match.territory.departement_of`;
        None outside France); with a policy, one column per term it weighs
        (named after the term; the ``hours`` term is the ``hours`` column)
        and ``score``, the assignment's score under the policy.

    Raises
    ------
    ValueError
        Without a problem.
    InvalidProblemError
        When an assigned id is not in the problem (every one listed).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0, rules="flow")
    >>> s = km.solve(p, method="flow", policy="max_hours")
    >>> df = solution_frame(s)
    >>> len(df) == len(s), df.columns.tolist()[-3:]
    (True, ['skill_fit', 'travel_km', 'score'])
    """
    import pandas as pd

    problem = problem if problem is not None else solution.problem
    if problem is None:
        raise ValueError("This solution has ids only (it was read from a file): "
                         "give its problem, solution.to_frame(problem=...).")
    policy = policy if policy is not None else solution.policy
    se, sm = _pairs(problem, solution)
    E, M, A = problem.employees, problem.missions, problem.associations
    dist = haversine_km(E.lat[se], E.lon[se], M.lat[sm], M.lon[sm])
    date = M.date[sm].astype(np.int64).astype("datetime64[D]")
    date[M.date[sm] == NO_DATE] = np.datetime64("NaT")
    employer = np.full(se.size, None, dtype=object)
    has = E.employer[se] >= 0
    employer[has] = problem.employers.ids[E.employer[se][has]]
    cols: dict[str, Any] = {
        "employee": E.ids[se], "mission": M.ids[sm], "association": A.ids[M.association[sm]],
        "employer": employer, "date": date.astype("datetime64[s]"), "hours": M.hours[sm],
        "km": trip_km(problem, se, sm, dist), "remote": M.remote[sm],
        "departement": _departement_codes(M.lat[sm], M.lon[sm]),
    }
    if policy is not None:
        weighed = [t for t in TERMS if policy.weights()[t] != 0]
        terms = arc_terms(problem, se, sm, dist, weighed)
        cols.update({t: terms[t] for t in weighed if t != "hours"})
        cols["score"] = policy.score(terms) if weighed else np.zeros(se.size)
    frame = pd.DataFrame(cols)
    if not len(frame):  # no rows: the text columns get the dtype pandas gives text (not object)
        text = pd.Series(["x"]).dtype
        frame = frame.astype({c: text for c in ("employee", "mission", "association", "employer", "departement")})
    return frame
