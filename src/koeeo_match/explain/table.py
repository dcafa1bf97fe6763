"""A solution as a table: one row per assignment, with what an analyst joins on and the policy's terms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._geo import haversine_km
from .._params import param_error
from ..candidates import arc_terms, trip_km
from ..model import NO_DATE, Problem
from ..policy import TERMS, Policy
from ..territory import departement_of, departements
from ._pairs import assigned_pairs, checked

if TYPE_CHECKING:
    from ..solution import Solution

__all__ = ["solution_frame"]


def _departement_codes(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """INSEE code of the nearest département (within 120 km), None elsewhere."""
    out = np.full(lat.size, None, dtype=object)
    dep = departement_of(lat, lon)
    if dep is not None:
        out[dep >= 0] = departements().code[dep[dep >= 0]]
    return out


def solution_frame(solution: Solution, problem: Problem | None = None, policy: Policy | str | None = None) -> Any:
    """The assignments of a solution as a pandas DataFrame, one row per assignment.

    Parameters
    ----------
    solution : Solution
    problem : Problem, optional
        The problem it solves; default: the solution's own (a solution read
        from a file has ids only, and needs it).
    policy : Policy or str, optional
        Whose terms to add (a Policy, a preset name or weights); default: the solution's (none for a
        solution read from a file).

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
    InvalidParameterError
        Without a problem (a solution read from a file); a problem, solution or policy of the
        wrong kind.
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

    if problem is None:
        problem = getattr(solution, "problem", None)
        if problem is None and hasattr(solution, "employee_ids"):
            raise param_error("Solution.to_frame", "problem", "is needed: this solution has ids only (it was read "
                              "from a file); give its problem, solution.to_frame(problem=...).")
    given = checked("Solution.to_frame", problem, policy, solution=solution)
    problem = cast(Problem, problem)  # checked above
    # without a policy, the solution's own terms (none for a solution read from a file)
    policy = given if policy is not None else solution.policy
    se, sm = assigned_pairs(problem, solution)
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
