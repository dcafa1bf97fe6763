"""The pinned pairs checked: each alone, with the forced pairs, and the teams they start."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._arrays import index_of
from ..candidates import build_candidates
from ..check import Violation, check
from ..errors import InvalidProblemError, Issue, UnsupportedError
from ..model import NO_DATE, Problem, restrict
from ..solvers import REGISTRY
from ._reduce import Reduced, _pair_keys

__all__ = ["fixed_pairs", "is_pairs", "refuse_short_teams", "refuse_unsupported"]

#: The problem field behind each rule of :func:`koeeo_match.check` (the ``field`` of an issue).
_FIELD = {"unknown_id": "id", "duplicate": "", "skill": "skills", "availability": "available",
          "distance": "max_km", "remote": "remote", "excluded": "excluded_associations", "forbidden": "forbidden",
          "employee_hours": "hours", "one_per_date": "date", "seats": "seats",
          "max_per_employer": "max_per_employer", "daily_cap": "daily_cap", "hours_budget": "hours_budget",
          "known_in_time": "posted"}
#: Rules a set of pinned pairs may break on its own: the solve completes the teams and adds the forced pairs.
_LATER = frozenset({"team_minimum", "forced"})
_SHOW = 5  # pairs named in one issue at most


def _is_table(value: Any) -> bool:
    """A table (a pandas DataFrame, or any object with ``columns`` and columns by name)."""
    return hasattr(value, "columns") and hasattr(value, "__getitem__") and not isinstance(value, Mapping)


def is_pairs(value: Any) -> bool:
    """Whether ``value`` may be a ``fixed=``: a Solution, a table with columns ``employee`` and
    ``mission`` (``Solution.to_frame()``'s), or an iterable that is not a string, mapping or other table.

    >>> is_pairs([("e1", "m1")]), is_pairs("e1"), is_pairs({"e1": "m1"})
    (True, False, False)
    """
    if hasattr(value, "employee_ids") and hasattr(value, "mission_ids"):
        return True
    if _is_table(value):
        return {"employee", "mission"} <= {str(c) for c in value.columns}
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


def _as_id_pairs(fixed: Any) -> tuple[np.ndarray, np.ndarray, list[Issue]]:
    """(employee ids, mission ids) of an iterable of pairs, as ``str`` arrays; an issue per
    malformed item."""
    es: list[str] = []
    ms: list[str] = []
    issues: list[Issue] = []
    for k, item in enumerate(fixed):
        # a row of a 2-column array of ids (``df[["employee", "mission"]].to_numpy()``) is a pair too
        row = item.tolist() if isinstance(item, np.ndarray) and item.ndim == 1 else item
        pair = tuple(row) if isinstance(row, (tuple, list)) else None
        if pair is None or len(pair) != 2 or not all(isinstance(x, str) for x in pair):
            issues.append(Issue("fixed", f"#{k}", "", f"must be an (employee id, mission id) pair of strings, "
                                                      f"got {item!r}"))
            continue
        es.append(str(pair[0]))
        ms.append(str(pair[1]))
    return np.array(es, dtype=str), np.array(ms, dtype=str), issues


@dataclass(frozen=True)
class _Pairs:
    """Pairs by id and by index, as :func:`koeeo_match.check` reads a solution (no status: nothing recorded)."""

    employee_ids: np.ndarray
    mission_ids: np.ndarray
    employee: np.ndarray
    mission: np.ndarray


def _trusted(problem: Problem, fixed: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A Solution's index arrays when they name its ids in ``problem`` (no lookup needed)."""
    e, m = getattr(fixed, "employee", None), getattr(fixed, "mission", None)
    if e is None or m is None or getattr(fixed, "problem", None) is not problem:
        return None
    return np.asarray(e, np.int64), np.asarray(m, np.int64)


def _named(pairs: list[tuple[str, str]]) -> str:
    head = ", ".join(f"{e}/{m}" for e, m in pairs[:_SHOW])
    return head + (f" (+{len(pairs) - _SHOW} more)" if len(pairs) > _SHOW else "")


def _repeated(values: np.ndarray) -> np.ndarray:
    """The values occurring more than once."""
    u, c = np.unique(values, return_counts=True)
    return u[c > 1]


def _pairs_of(problem: Problem, v: Violation, e: np.ndarray, m: np.ndarray) -> list[tuple[str, str]]:
    """The pinned pairs (indices ``e``, ``m``) behind a violation of a group rule."""
    E, M, ER = problem.employees, problem.missions, problem.employers
    emp = E.employer[e]
    of_employer = (emp >= 0) & (ER.ids[np.maximum(emp, 0)] == v.ids[-1]) if len(ER) else np.zeros(e.size, bool)
    d = M.date[m]
    if v.rule == "employee_hours":
        sel = E.ids[e] == v.ids[0]
    elif v.rule == "one_per_date":
        sel = (E.ids[e] == v.ids[0]) & (d != NO_DATE)
        sel &= np.isin(d, _repeated(d[sel]))
    elif v.rule == "seats":
        sel = M.ids[m] == v.ids[0]
    elif v.rule == "max_per_employer":
        sel = (M.ids[m] == v.ids[0]) & of_employer
    elif v.rule == "daily_cap":
        sel = of_employer & (d != NO_DATE)
        days, cnt = np.unique(d[sel], return_counts=True)
        sel &= np.isin(d, days[cnt > ER.daily_cap[np.flatnonzero(ER.ids == v.ids[0])[0]]])
    elif v.rule == "hours_budget":
        sel = of_employer
    else:  # a rule of one pair names it itself
        sel = np.zeros(e.size, bool)
    idx = np.flatnonzero(sel)
    return list(zip(E.ids[e[idx]].tolist(), M.ids[m[idx]].tolist()))


def fixed_pairs(problem: Problem, fixed: Any) -> tuple[np.ndarray, np.ndarray]:
    """The pinned pairs as dense index arrays (sorted by employee, then mission), validated.

    Parameters
    ----------
    problem : Problem
        The whole problem.
    fixed : Solution or iterable of (str, str)
        The pinned (employee id, mission id) pairs.

    Returns
    -------
    employee, mission : ndarray of int64

    Raises
    ------
    InvalidProblemError
        Every pair that breaks a rule, all at once: kind ``fixed``, id the pair(s)
        (``employee/mission``), field the problem field of the rule (``skills``,
        ``seats``, ``daily_cap``, ...) and the rule's name at the head of the message.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m", "association": "a", "skills": {"law": 2}}])
    >>> try:
    ...     fixed_pairs(p, [("e", "m"), ("e", "x")])
    ... except km.InvalidProblemError as err:
    ...     print([(i.id, i.field) for i in err.issues])
    [('e/x', 'mission'), ('e/m', 'skills')]
    """
    E, M = problem.employees, problem.missions
    trusted = _trusted(problem, fixed)
    issues: list[Issue] = []
    if trusted is not None:
        e, m = trusted
    else:
        if hasattr(fixed, "employee_ids") and hasattr(fixed, "mission_ids"):
            es, ms = np.asarray(fixed.employee_ids).astype(str), np.asarray(fixed.mission_ids).astype(str)
        else:  # a table's rows are read from its two columns, not by iterating it (its column names)
            es, ms, issues = _as_id_pairs(zip(fixed["employee"], fixed["mission"]) if _is_table(fixed) else fixed)
        ei, mi = index_of(E.ids.astype(str), es), index_of(M.ids.astype(str), ms)
        for k in np.flatnonzero((ei < 0) | (mi < 0)).tolist():
            field = "employee" if ei[k] < 0 else "mission"
            issues.append(Issue("fixed", f"{es[k]}/{ms[k]}", field,
                                f"unknown {field} id {str((es if ei[k] < 0 else ms)[k])!r}"))
        known = (ei >= 0) & (mi >= 0)
        e, m = ei[known], mi[known]
    violations = check(problem, _Pairs(E.ids[e], M.ids[m], e, m))
    order = np.lexsort((m, e))
    e, m = e[order], m[order]
    first = np.ones(e.size, bool)
    first[1:] = (e[1:] != e[:-1]) | (m[1:] != m[:-1])
    e, m = e[first], m[first]
    issues += _issues(problem, violations, e, m)
    if not issues:  # the pairs are sound alone: do they leave room for the forced pairs?
        issues += _against_forced(problem, e, m)
    if issues:
        raise InvalidProblemError(issues)
    return e, m


def _issues(problem: Problem, violations: list[Violation], e: np.ndarray, m: np.ndarray,
            suffix: str = "") -> list[Issue]:
    """An issue (kind ``fixed``) per violation of a rule the pinned pairs ``(e, m)`` must keep now."""
    out = []
    for v in violations:
        if v.rule in _LATER:
            continue
        one = len(v.ids) == 2 and v.rule != "max_per_employer"
        who = _named([(v.ids[0], v.ids[1])] if one else _pairs_of(problem, v, e, m))
        field = _FIELD.get(v.rule, v.rule)
        if v.rule == "known_in_time" and v.message.startswith("employee joined"):
            field = "joined"  # the employee joined too late (the mission may also be posted too late)
        out.append(Issue("fixed", who, field, f"[{v.rule}] {v.message}{suffix}"))
    return out


def _against_forced(problem: Problem, e: np.ndarray, m: np.ndarray) -> list[Issue]:
    """The rules that the pinned pairs ``(e, m)`` and the problem's forced pairs break together,
    but neither alone: every solution must hold both, so none exists."""
    fz = problem.forced
    if not fz.employee.size or not e.size:
        return []
    E, M = problem.employees, problem.missions
    fe, fm = fz.employee.astype(np.int64), fz.mission.astype(np.int64)
    ue, um = np.concatenate([e, fe]), np.concatenate([m, fm])
    keys = np.unique(_pair_keys(ue, um, len(M)))
    ue, um = keys // len(M), keys % len(M)
    alone = {(v.rule, v.ids) for v in check(problem, _Pairs(E.ids[fe], M.ids[fm], fe, fm))}
    both = [v for v in check(problem, _Pairs(E.ids[ue], M.ids[um], ue, um)) if (v.rule, v.ids) not in alone]
    return _issues(problem, both, ue, um, " (the fixed pairs with the forced ones: no solution holds both)")


def refuse_short_teams(reduced: Reduced, whole: Problem) -> None:
    """Refuse pinned pairs that start a team with fewer eligible employees left than it still needs.

    A started team must get ``min_seats - k`` more volunteers; when fewer employees are eligible for
    it in the reduced problem (skills, distance, availability, hours left, ...), no solution holds the
    pinned pairs.  Counting them builds the candidate arcs of the started missions only.

    Raises
    ------
    InvalidProblemError
        One issue per such team (kind ``fixed``, field ``min_seats``), naming its pinned pairs.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m", "association": "a", "seats": 3, "min_seats": 3}])
    >>> from koeeo_match.pinned import reduce
    >>> try:
    ...     refuse_short_teams(reduce(p, *fixed_pairs(p, [("e1", "m")])), p)
    ... except km.InvalidProblemError as err:
    ...     print(err.issues[0].id, err.issues[0].field)
    e1/m min_seats
    """
    q = reduced.problem
    if q.taken is None or not q.taken.staffed.any():
        return
    local = np.flatnonzero(q.taken.staffed)
    graph = build_candidates(restrict(q, np.arange(q.n_employees), local), "max_hours")
    have = np.bincount(graph.mission, minlength=local.size)
    need = q.missions.min_seats[local]
    M = whole.missions
    fe, fm = reduced.fixed_employee, reduced.fixed_mission
    issues = []
    for i in np.flatnonzero(have < need).tolist():
        j = int(reduced.missions[local[i]])
        mine = np.flatnonzero(fm == j)
        who = _named(list(zip(whole.employees.ids[fe[mine]].tolist(), [str(M.ids[j])] * mine.size)))
        issues.append(Issue("fixed", who, "min_seats",
                            f"[team_minimum] the fixed pair(s) start the team of mission {M.ids[j]!r} ({mine.size} of "
                            f"min_seats {int(M.min_seats[j])}); it needs {int(need[i])} more volunteer(s) and "
                            f"{int(have[i])} other employee(s) are eligible for it"))
    if issues:
        raise InvalidProblemError(issues)


def refuse_unsupported(reduced: Reduced, method: str, whole: Problem) -> None:
    """Refuse a method that cannot complete the teams the pinned pairs started below their minimum.

    Raises
    ------
    UnsupportedError
        Naming the team(s) and the methods that complete them.
    """
    started = reduced.started
    if not started.size or "staffed" in REGISTRY[method].supports:
        return
    M = whole.missions
    able = [f"{n!r}" for n, s in REGISTRY.items() if "staffed" in s.supports]
    k = np.bincount(reduced.fixed_mission, minlength=len(M))
    teams = ", ".join(f"{M.ids[j]!r} ({k[j]} of {M.min_seats[j]})" for j in started[:_SHOW].tolist())
    raise UnsupportedError(
        f"method={method!r} cannot complete the team(s) that the fixed pairs started below their minimum: "
        f"mission {teams}{' ...' if started.size > _SHOW else ''}; each must reach its min_seats, which "
        f"{method!r} may fail to do. Methods that complete them: {', '.join(sorted(able))}.")
