"""Independent verification of a solution against every rule of DESIGN.md §4.

This module shares no code with the solvers or the candidate graph: it reads
the problem's arrays and the solution's ids and recomputes each rule itself,
with its own distance formula and its own date and capacity logic.

Violation rules: ``unknown_id``, ``duplicate``, ``skill``, ``availability``,
``distance``, ``remote``, ``excluded``, ``forbidden``, ``employee_hours``,
``one_per_date``, ``seats``, ``team_minimum``, ``max_per_employer``,
``daily_cap``, ``hours_budget``, ``forced``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .model import NO_DATE, Problem

__all__ = ["Violation", "check"]

_R = 6371.0088
_TOL_KM = 1e-6
_TOL_H = 1e-9


class Violation(NamedTuple):
    """One broken rule: which rule, the records involved, and a message.

    Attributes
    ----------
    rule : str
        The rule's name (``skill``, ``seats``, ``daily_cap``, ...; the list is in docs/model.md §6).
    ids : tuple of str
        The records involved, e.g. ``(employee_id, mission_id)``, or ``(employer_id,)`` for an employer rule.
    message : str
        What is wrong, with the numbers.
    """

    rule: str
    ids: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {', '.join(self.ids)}: {self.message}"


def _km(lat1, lon1, lat2, lon2):
    # spherical law of haversines, written out independently of _geo
    r = math.pi / 180.0
    s1 = np.sin((lat2 - lat1) * r / 2)
    s2 = np.sin((lon2 - lon1) * r / 2)
    h = s1 * s1 + np.cos(lat1 * r) * np.cos(lat2 * r) * s2 * s2
    return 2 * _R * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def _day(d: int) -> str:
    import datetime

    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(d))).isoformat()


def _trusted_indices(problem: Problem, solution: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The solution's index arrays, if they name exactly its ids in this problem (vectorised)."""
    e, m = getattr(solution, "employee", None), getattr(solution, "mission", None)
    if e is None or m is None or len(e) != len(solution.employee_ids) or len(m) != len(solution.mission_ids):
        return None
    e, m = np.asarray(e, np.int64), np.asarray(m, np.int64)
    E, M = problem.employees.ids, problem.missions.ids
    if e.size and (e.min() < 0 or e.max() >= len(E) or m.min() < 0 or m.max() >= len(M)):
        return None
    if not (np.array_equal(E[e], solution.employee_ids) and np.array_equal(M[m], solution.mission_ids)):
        return None
    return e, m


def check(problem: Problem, solution: Any) -> list[Violation]:
    """Every rule the solution breaks; ``[]`` when it is feasible.

    ``solution`` is a :class:`~koeeo_match.Solution` or any iterable of
    (employee id, mission id) pairs.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e", "lat": 45.0, "lon": 5.0, "skills": {"law": 1}}],
    ...     missions=[{"id": "m", "association": "a", "skills": {"law": 2}}])
    >>> [v.rule for v in km.check(p, [("e", "m")])]
    ['skill']
    """
    E, M = problem.employees, problem.missions
    er, asn = problem.employers, problem.associations
    out: list[Violation] = []
    fast = _trusted_indices(problem, solution)
    if fast is not None:
        e, m = fast
        key = e * max(len(M), 1) + m
        uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
        for k in first[counts > 1].tolist():
            out.append(Violation("duplicate", (E.ids[e[k]], M.ids[m[k]]), "the pair is listed more than once"))
        keep = np.sort(first)
        e, m = e[keep], m[keep]
        seen = set(zip(e.tolist(), m.tolist())) if len(problem.forced) else set()
    else:
        pairs = solution.assignments if hasattr(solution, "assignments") else list(solution)
        e_index = {k: i for i, k in enumerate(E.ids.tolist())}
        m_index = {k: i for i, k in enumerate(M.ids.tolist())}
        es, ms, seen = [], [], set()
        for e_id, m_id in pairs:
            ei, mi = e_index.get(e_id), m_index.get(m_id)
            if ei is None or mi is None:
                out.append(Violation("unknown_id", (str(e_id), str(m_id)), "the employee or mission is not in the problem"))
                continue
            if (ei, mi) in seen:
                out.append(Violation("duplicate", (e_id, m_id), "the pair is listed more than once"))
                continue
            seen.add((ei, mi))
            es.append(ei), ms.append(mi)
        e = np.asarray(es, np.int64)
        m = np.asarray(ms, np.int64)
    eid, mid = E.ids, M.ids

    def each(mask: np.ndarray, rule: str, text) -> None:
        for k in np.flatnonzero(mask).tolist():
            out.append(Violation(rule, (eid[e[k]], mid[m[k]]), text(k)))

    # --- eligibility of each pair
    nreq = M.req_ptr[1:] - M.req_ptr[:-1]
    rep = np.repeat(np.arange(e.size), nreq[m])
    if rep.size:
        starts = M.req_ptr[m][rep]
        offs = np.arange(rep.size) - np.repeat(np.cumsum(nreq[m]) - nreq[m], nreq[m])
        rs = M.req_skill[starts + offs]
        rl = M.req_level[starts + offs].astype(np.int64)
        have = E.skill_level[e[rep], rs].astype(np.int64)
        for k in np.flatnonzero(have < rl).tolist():
            i = rep[k]
            out.append(Violation("skill", (eid[e[i]], mid[m[i]]),
                                 f"mission needs {problem.skills[rs[k]]} level {rl[k]}, employee has {have[k]}"))
    d = M.date[m]
    dated = (d != NO_DATE) & ~E.always_available[e]
    nint = (E.avail_ptr[1:] - E.avail_ptr[:-1])[e] * dated
    rep = np.repeat(np.arange(e.size), nint)
    ok = np.zeros(e.size, bool)
    if rep.size:
        offs = np.arange(rep.size) - np.repeat(np.cumsum(nint) - nint, nint)
        j = E.avail_ptr[e[rep]] + offs
        inside = (E.avail_start[j] <= d[rep]) & (d[rep] <= E.avail_end[j])
        ok[rep[inside]] = True
    each(dated & ~ok, "availability", lambda k: f"employee is not available on {_day(d[k])}")
    rem = M.remote[m]
    dist = _km(E.lat[e], E.lon[e], M.lat[m], M.lon[m])
    far = dist > E.max_km[e] + _TOL_KM
    each(rem & ~E.remote_ok[e] & far, "remote",
         lambda k: f"remote mission, the employee is not remote_ok and {dist[k]:.3f} km beyond max_km {E.max_km[e[k]]:g}")
    each(~rem & far, "distance",
         lambda k: f"{dist[k]:.3f} km away, beyond the employee's max_km {E.max_km[e[k]]:g}")
    emp = E.employer[e]
    a_of = M.association[m]
    na = max(len(asn), 1)
    owner = np.repeat(np.arange(len(er), dtype=np.int64), er.excl_ptr[1:] - er.excl_ptr[:-1])
    excluded = (emp >= 0) & np.isin(emp * na + a_of, owner * na + er.excl_assoc)
    each(excluded, "excluded", lambda k: f"employer {er.ids[emp[k]]!r} excludes association {asn.ids[a_of[k]]!r}")
    fb = problem.forbidden
    nm = max(len(M), 1)
    each(np.isin(e * nm + m, fb.employee.astype(np.int64) * nm + fb.mission), "forbidden", lambda k: "the pair is forbidden")

    # --- capacities
    h = M.hours[m]
    used = np.bincount(e, weights=h, minlength=len(E))
    for i in np.flatnonzero(used > E.hours + _TOL_H).tolist():
        out.append(Violation("employee_hours", (eid[i],), f"{used[i]:g} h assigned, entitlement {E.hours[i]:g} h"))
    dd = d != NO_DATE
    if dd.any():
        keys, cnt = np.unique(np.stack([e[dd], d[dd]], 1), axis=0, return_counts=True)
        for (i, day), c in zip(keys[cnt > 1].tolist(), cnt[cnt > 1].tolist()):
            out.append(Violation("one_per_date", (eid[i],), f"{c} missions on {_day(day)}"))
    cnt = np.bincount(m, minlength=len(M))
    for j in np.flatnonzero(cnt > M.seats).tolist():
        out.append(Violation("seats", (mid[j],), f"{cnt[j]} volunteers for {M.seats[j]} seats"))
    for j in np.flatnonzero((cnt > 0) & (cnt < M.min_seats)).tolist():
        out.append(Violation("team_minimum", (mid[j],), f"{cnt[j]} volunteers, the team needs 0 or at least {M.min_seats[j]}"))
    has = (emp >= 0) & (M.max_per_employer[m] >= 0)
    if has.any():
        keys, c = np.unique(np.stack([m[has], emp[has]], 1), axis=0, return_counts=True)
        for (j, ci), n in zip(keys.tolist(), c.tolist()):
            if n > M.max_per_employer[j]:
                out.append(Violation("max_per_employer", (mid[j], er.ids[ci]),
                                     f"{n} volunteers from this employer, at most {M.max_per_employer[j]}"))
    has = (emp >= 0) & dd
    if has.any():
        pairs_ = np.unique(np.stack([emp[has], d[has], e[has]], 1), axis=0)  # distinct employees
        keys, c = np.unique(pairs_[:, :2], axis=0, return_counts=True)
        for (ci, day), n in zip(keys.tolist(), c.tolist()):
            if er.daily_cap[ci] >= 0 and n > er.daily_cap[ci]:
                out.append(Violation("daily_cap", (er.ids[ci],),
                                     f"{n} employees away on {_day(day)}, daily cap {er.daily_cap[ci]}"))
    if (emp >= 0).any():
        spent = np.bincount(emp[emp >= 0], weights=h[emp >= 0], minlength=len(er))
        for ci in np.flatnonzero(spent > er.hours_budget + _TOL_H).tolist():
            out.append(Violation("hours_budget", (er.ids[ci],), f"{spent[ci]:g} h donated, budget {er.hours_budget[ci]:g} h"))
    for a, b in zip(problem.forced.employee.tolist(), problem.forced.mission.tolist()):
        if (a, b) not in seen:
            out.append(Violation("forced", (eid[a], mid[b]), "a forced pair is not assigned"))
    return out
