"""What every explanation starts from: its checked inputs, and a solution's assignments as index
arrays into the problem it is asked about."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._arrays import index_of
from .._params import InstanceOf, Satisfies, validate
from ..errors import InvalidProblemError, Issue
from ..model import Problem
from ..policy import Policy, as_policy

if TYPE_CHECKING:
    from ..solution import Solution

_PROBLEM = [InstanceOf(Problem, "a Problem")]
# a Solution by what an explanation reads of it (solution.py imports this room, not the reverse)
_SOLUTION = [Satisfies(lambda v: all(hasattr(v, a) for a in ("employee_ids", "mission_ids", "policy", "problem")),
                       "a Solution")]


def checked(fn: str, problem: Any, policy: Any, **solutions: Any) -> Policy:
    """Refuse a ``problem`` that is not a Problem and ``solutions`` that are not Solutions (a
    parameter error naming ``fn`` and the parameter); the policy to weigh the terms with: ``policy``
    (a Policy or a preset or weights string), else the first solution's own, else ``max_hours``."""
    validate(fn, {**{name: _SOLUTION for name in solutions}, "problem": _PROBLEM}, {"problem": problem, **solutions})
    if policy is not None:
        return as_policy(policy, "policy", fn)
    first = next(iter(solutions.values()))
    return first.policy or Policy.preset("max_hours")


def assigned_pairs(problem: Problem, solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    """(employee index, mission index) of each assignment of ``solution`` in ``problem``.

    The solution's own indices serve only when it was solved on this very problem object; any
    other problem (a file's, a reordered or a smaller one) is matched by ids.

    Parameters
    ----------
    problem : Problem
    solution : Solution
        Solved here or read from a file (ids only).

    Returns
    -------
    tuple of numpy.ndarray
        Two int64 arrays, one entry per assignment, in the solution's order.

    Raises
    ------
    InvalidProblemError
        Every assigned employee or mission id that ``problem`` does not have, all listed.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a", "seats": 1}])
    >>> s = km.Solution.from_dict({"format": "koeeo-match-solution/1", "status": "feasible",
    ...                            "assignments": [{"employee": "e2", "mission": "m1"}]})
    >>> assigned_pairs(p, s)
    (array([1]), array([0]))
    """
    if solution.problem is problem and solution.employee is not None and solution.mission is not None:
        return np.asarray(solution.employee, np.int64), np.asarray(solution.mission, np.int64)
    eids, mids = np.asarray(solution.employee_ids).astype(str), np.asarray(solution.mission_ids).astype(str)
    # fixed-width strings sort without a Python comparison per step
    e = index_of(np.asarray(problem.employees.ids).astype(str), eids)
    m = index_of(np.asarray(problem.missions.ids).astype(str), mids)
    issues = [Issue("assignment", f"#{i}", kind, f"{kind} {str(ids[i])!r} is not in the problem")
              for kind, ids, at in (("employee", eids, e), ("mission", mids, m)) for i in np.flatnonzero(at < 0)]
    if issues:
        raise InvalidProblemError(issues)
    return e, m
