"""Why (not) me?  Explanations of a solution.

- :func:`explain` — for one employee or mission: what it got and what each
  assignment scores, or why it got nothing: no eligible candidate (and, for
  each nearby candidate, the rule that cuts it: skill, level, date, distance,
  remote, exclusion, forbidden), candidates all taken by higher-scoring
  assignments (which, and by how much), a capacity that binds (employer
  daily cap or budget, max per employer), or a team minimum not reached.
- :func:`shortfall` — demand that no allocation can meet, from a maximum flow
  (Hall's condition: the deficiency is total seats minus the maximum flow),
  by skill and département.
- :func:`breakdown` — the objective by term, and the constraints that bind.
- :func:`diff` — who moved between two solutions, and what it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._geo import haversine_km
from .candidates import arc_terms, eligible_pairs, filter_eligible
from .model import NO_DATE, Problem
from .policy import TERMS, Policy
from .territory import departement_of, departements
from .solution import Solution

__all__ = ["Explanation", "explain", "why_not", "shortfall", "breakdown", "diff"]

_NEARBY = 8


@dataclass
class Explanation:
    """What :func:`explain` found: a verdict, readable lines, and the details behind them.

    Attributes
    ----------
    kind : {"employee", "mission"}
        What ``id`` names.
    id : str
        The employee's or mission's id.
    verdict : str
        An employee is ``assigned``, ``no_candidate``, ``outscored``, ``capacity`` or
        ``team_minimum``; a mission is ``filled``, ``partly_filled``, ``unfilled`` or ``team_minimum``.
    lines : list of str
        The explanation as sentences (``str(explanation)`` prints them).
    details : dict
        The ids behind the sentences (candidates, eligible, busy, idle employees, ...).
    """

    kind: str  # "employee" | "mission"
    id: str
    verdict: str  # assigned | no_candidate | outscored | capacity | team_minimum | filled | unfilled | partly_filled
    lines: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join([f"{self.kind} {self.id!r}: {self.verdict}", *("  " + x for x in self.lines)])


def _index(ids: np.ndarray) -> dict[str, int]:
    return {k: i for i, k in enumerate(ids.tolist())}


def _pairs(problem: Problem, solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    if solution.employee is not None and solution.mission is not None:
        return np.asarray(solution.employee, np.int64), np.asarray(solution.mission, np.int64)
    ei, mi = _index(problem.employees.ids), _index(problem.missions.ids)
    e = np.array([ei[x] for x in solution.employee_ids.tolist()], np.int64)
    m = np.array([mi[x] for x in solution.mission_ids.tolist()], np.int64)
    return e, m


def why_not(problem: Problem, e: int, m: int) -> str | None:
    """The first rule that makes the pair (employee index ``e``, mission index ``m``)
    ineligible, as a sentence; ``None`` if the pair is eligible."""
    E, M, er, A = problem.employees, problem.missions, problem.employers, problem.associations
    sl = slice(M.req_ptr[m], M.req_ptr[m + 1])
    for s, lv in zip(M.req_skill[sl].tolist(), M.req_level[sl].tolist()):
        have = int(E.skill_level[e, s])
        if have == 0:
            return f"skill: needs {problem.skills[s]} (level {lv}), which the employee does not have"
        if have < lv:
            return f"level: needs {problem.skills[s]} level {lv}, the employee has level {have}"
    d = int(M.date[m])
    if d != NO_DATE and not E.always_available[e]:
        a = slice(E.avail_ptr[e], E.avail_ptr[e + 1])
        if not np.any((E.avail_start[a] <= d) & (d <= E.avail_end[a])):
            from .io import format_day

            return f"date: the employee is not available on {format_day(d)}"
    km = float(haversine_km(E.lat[e], E.lon[e], M.lat[m], M.lon[m]))
    if km > E.max_km[e] and not (M.remote[m] and E.remote_ok[e]):
        if M.remote[m]:
            return f"remote: the mission is remote but the employee is not remote_ok, and it is {km:.1f} km away (max {E.max_km[e]:g})"
        return f"distance: {km:.1f} km away, beyond the employee's max_km {E.max_km[e]:g}"
    c = int(E.employer[e])
    if c >= 0 and M.association[m] in er.excl_assoc[er.excl_ptr[c]:er.excl_ptr[c + 1]]:
        return f"exclusion: employer {er.ids[c]!r} excludes association {A.ids[M.association[m]]!r}"
    fb = problem.forbidden
    if np.any((fb.employee == e) & (fb.mission == m)):
        return "forbidden: the pair is listed in 'forbidden'"
    return None


def _score(problem: Problem, policy: Policy, e: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, dict]:
    E, M = problem.employees, problem.missions
    km = haversine_km(E.lat[e], E.lon[e], M.lat[m], M.lon[m])
    terms = arc_terms(problem, e, m, km)
    return policy.score(terms), terms


def _nearby_missions(problem: Problem, e: int) -> np.ndarray:
    E, M = problem.employees, problem.missions
    km = haversine_km(E.lat[e], E.lon[e], M.lat, M.lon)
    return np.argsort(km, kind="stable")[:_NEARBY]


def _nearby_employees(problem: Problem, m: int) -> np.ndarray:
    E, M = problem.employees, problem.missions
    km = haversine_km(M.lat[m], M.lon[m], E.lat, E.lon)
    return np.argsort(km, kind="stable")[:_NEARBY]


def explain(problem: Problem, solution: Solution, id: str, policy: Policy | None = None) -> Explanation:
    """Explain the fate of employee or mission ``id`` in ``solution``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "skills": {"law": 1}}],
    ...     missions=[{"id": "m1", "association": "a", "skills": {"law": 2}}])
    >>> s = km.solve(p, method="flow")
    >>> km.explain(p, s, "e1").verdict
    'no_candidate'
    """
    policy = policy or solution.policy or Policy.preset("max_hours")
    E, M = problem.employees, problem.missions
    ei, mi = _index(E.ids), _index(M.ids)
    se, sm = _pairs(problem, solution)
    if id in ei:
        return _explain_employee(problem, policy, se, sm, ei[id])
    if id in mi:
        return _explain_mission(problem, policy, se, sm, mi[id])
    raise KeyError(f"{id!r} is neither an employee nor a mission of this problem")


def _reasons(problem: Problem, es: np.ndarray, ms: np.ndarray, names: np.ndarray, lines: list[str]) -> dict[str, str]:
    """The rule that cuts each pair (or "eligible"), keyed by the other side's id; appended to lines."""
    out = {}
    for e, m, name in zip(es.tolist(), ms.tolist(), names.tolist()):
        out[name] = why_not(problem, e, m) or "eligible"
        lines.append(f"{name!r}: {out[name]}")
    return out


def _fmt_terms(terms: dict, i: int, policy: Policy) -> str:
    w = policy.weights()
    parts = [f"{t} {terms[t][i]:g}" for t in TERMS if w[t] != 0]
    return ", ".join(parts)


def _explain_employee(problem: Problem, policy: Policy, se, sm, e: int) -> Explanation:
    E, M = problem.employees, problem.missions
    eid = E.ids[e]
    mine = sm[se == e]
    if mine.size:
        sc, terms = _score(problem, policy, np.full(mine.size, e), mine)
        lines = [f"assigned to {M.ids[m]!r}: score {sc[i]:.4g} ({_fmt_terms(terms, i, policy)})" for i, m in enumerate(mine.tolist())]
        used = float(M.hours[mine].sum())
        lines.append(f"{used:g} h of {E.hours[e]:g} h used")
        return Explanation("employee", eid, "assigned", lines, {"missions": M.ids[mine].tolist()})
    cand = filter_eligible(problem, np.full(len(M), e, np.int32), np.arange(len(M), dtype=np.int32))[1]
    if cand.size == 0:
        lines = ["no mission is open to this employee; the nearest ones:"]
        near = _nearby_missions(problem, e)
        reasons = _reasons(problem, np.full(near.size, e), near, M.ids[near], lines)
        return Explanation("employee", eid, "no_candidate", lines, {"reasons": reasons})
    # eligible somewhere: say, for each candidate, what took it
    my_sc, _ = _score(problem, policy, np.full(cand.size, e), cand)
    count = np.bincount(sm, minlength=len(M))
    lines, verdict, outscored = [], "outscored", {}
    for m, mine_score in zip(cand.tolist(), my_sc.tolist()):
        holders = se[sm == m]
        if count[m] >= M.seats[m]:
            hs, _ = _score(problem, policy, holders, np.full(holders.size, m))
            weakest = float(hs.min())
            outscored[M.ids[m]] = {"your_score": mine_score, "weakest_holder_score": weakest,
                                   "holders": E.ids[holders].tolist()}
            lines.append(
                f"{M.ids[m]!r} is full: its {int(M.seats[m])} seat(s) went to "
                f"{', '.join(repr(x) for x in E.ids[holders][:5].tolist())} (lowest score {weakest:.4g}); "
                f"yours would score {mine_score:.4g} ({mine_score - weakest:+.4g})"
            )
        elif M.hours[m] > E.hours[e] + 1e-9:
            verdict = "capacity" if verdict == "outscored" else verdict
            lines.append(f"{M.ids[m]!r} has room but lasts {M.hours[m]:g} h, more than the employee's "
                         f"{E.hours[e]:g} h entitlement")
        else:
            why = _binding_for(problem, se, sm, e, m)
            if why:
                verdict = "capacity" if verdict == "outscored" else verdict
                lines.append(f"{M.ids[m]!r} has room but {why}")
            elif M.min_seats[m] > 1 and count[m] == 0:
                verdict = "team_minimum"
                lines.append(f"{M.ids[m]!r} is a team mission (at least {int(M.min_seats[m])}) that did not run")
            else:
                lines.append(f"{M.ids[m]!r} has room: taking it scores {mine_score:.4g}, but the optimiser preferred "
                             "a solution without it (it would displace better assignments elsewhere)")
    return Explanation("employee", eid, verdict, lines, {"candidates": M.ids[cand].tolist(), "outscored": outscored})


def _binding_for(problem: Problem, se, sm, e: int, m: int) -> str | None:
    """A capacity of the current solution that blocks adding (e, m), if any."""
    E, M, er = problem.employees, problem.missions, problem.employers
    c = int(E.employer[e])
    if c < 0:
        return None
    same = E.employer[se] == c
    d = int(M.date[m])
    if er.daily_cap[c] >= 0 and d != NO_DATE:
        n = int(np.unique(se[same & (M.date[sm] == d)]).size)
        if n >= er.daily_cap[c]:
            return f"employer {er.ids[c]!r} already has {n} employee(s) away that day (daily cap {er.daily_cap[c]})"
    if np.isfinite(er.hours_budget[c]):
        spent = float(M.hours[sm[same]].sum())
        if spent + M.hours[m] > er.hours_budget[c] + 1e-9:
            return f"employer {er.ids[c]!r} has used {spent:g} h of its {er.hours_budget[c]:g} h budget"
    if M.max_per_employer[m] >= 0:
        n = int(np.count_nonzero(same & (sm == m)))
        if n >= M.max_per_employer[m]:
            return f"it already has {n} volunteer(s) from {er.ids[c]!r} (max_per_employer {M.max_per_employer[m]})"
    return None


def _explain_mission(problem: Problem, policy: Policy, se, sm, m: int) -> Explanation:
    E, M = problem.employees, problem.missions
    mid = M.ids[m]
    holders = se[sm == m]
    seats = int(M.seats[m])
    if holders.size >= seats:
        return Explanation("mission", mid, "filled", [f"all {seats} seat(s) taken by "
                           + ", ".join(repr(x) for x in E.ids[holders].tolist())], {"holders": E.ids[holders].tolist()})
    cand = filter_eligible(problem, np.arange(len(E), dtype=np.int32), np.full(len(E), m, np.int32))[0]
    lines = [f"{holders.size} of {seats} seat(s) taken" + (f" (team minimum {int(M.min_seats[m])})" if M.min_seats[m] > 1 else "")]
    if cand.size == 0:
        lines.append("no employee is eligible; the nearest ones:")
        near = _nearby_employees(problem, m)
        reasons = _reasons(problem, near, np.full(near.size, m), E.ids[near], lines)
        return Explanation("mission", mid, "no_candidate", lines, {"reasons": reasons})
    free = [e for e in cand.tolist() if e not in set(holders.tolist())]
    busy = {}
    for e in free:
        theirs = sm[se == e]
        if theirs.size:
            busy[E.ids[e]] = M.ids[theirs].tolist()
    idle = [E.ids[e] for e in free if E.ids[e] not in busy and E.hours[e] + 1e-9 >= M.hours[m]]
    short_hours = [E.ids[e] for e in free if E.ids[e] not in busy and E.hours[e] + 1e-9 < M.hours[m]]
    if short_hours:
        lines.append(f"{len(short_hours)} eligible employee(s) have fewer hours than its {M.hours[m]:g} h: "
                     + ", ".join(repr(x) for x in short_hours[:5]))
    if busy:
        lines.append(f"{len(busy)} eligible employee(s) went to other missions: "
                     + "; ".join(f"{k!r} -> {', '.join(v)}" for k, v in list(busy.items())[:5]))
    if idle:
        lines.append(f"{len(idle)} eligible employee(s) are unassigned but were not given it: "
                     + ", ".join(repr(x) for x in idle[:5]))
    verdict = "unfilled" if holders.size == 0 else "partly_filled"
    if M.min_seats[m] > 1 and holders.size == 0:
        verdict = "team_minimum"
        lines.append(f"a team needs at least {int(M.min_seats[m])}; {cand.size} employee(s) are eligible at all")
    return Explanation("mission", mid, verdict, lines, {"eligible": E.ids[cand].tolist(), "busy": busy, "idle": idle,
                                                        "too_few_hours": short_hours})


def shortfall(problem: Problem, *, top: int | None = None, top_k: int | None = None) -> dict[str, Any]:
    """Seats that no allocation can fill, by skill and département.

    A maximum flow on the candidate graph (each employee giving as many
    missions as its hours allow at the shortest durations, each mission its
    seats) gives the largest number of seats that can be filled at once; by
    Hall's theorem (deficiency version) ``total seats - max flow`` is the
    shortfall, and the seats left empty by the maximum flow locate it.

    Returns a dict with ``seats``, ``max_filled``, ``shortfall`` and ``groups``:
    a list of ``{"skill", "departement", "seats_short"}`` sorted by size.
    With ``top_k`` the flow runs on the capped candidate graph (national
    scale), whose shortfall is an upper estimate of the true one.
    """
    from ortools.graph.python import max_flow


    E, M = problem.employees, problem.missions
    ea, ma, _ = eligible_pairs(problem, k=top_k, policy=Policy.preset("max_hours"))
    h = M.hours[ma]
    # capacity per employee: missions that fit at the shortest durations
    order = np.lexsort((h, ea))
    hs = h[order]
    start = np.zeros(ea.size, bool)
    if ea.size:
        start[0] = True
        start[1:] = ea[order][1:] != ea[order][:-1]
    grp = np.cumsum(start) - 1
    cs = np.cumsum(hs)
    base = cs[np.flatnonzero(start)] - hs[np.flatnonzero(start)] if ea.size else cs
    within = cs - base[grp] if ea.size else cs
    fits = within <= E.hours[ea[order]] + 1e-9
    k = np.bincount(ea[order][fits], minlength=len(E))
    S, T = len(E) + len(M), len(E) + len(M) + 1
    f = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(len(E), S), ea, len(E) + np.arange(len(M))])
    heads = np.concatenate([np.arange(len(E)), len(E) + ma, np.full(len(M), T)])
    caps = np.concatenate([k, np.ones(ea.size, np.int64), M.seats.astype(np.int64)])
    f.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64))
    f.solve(S, T)
    flows = f.flows(np.arange(len(E) + ea.size, len(E) + ea.size + len(M)))
    short = M.seats.astype(np.int64) - flows
    seats = int(M.seats.sum())
    dep = departement_of(M.lat, M.lon)
    names = departements().code
    key_skill = np.full(len(M), -1)
    n_req = np.diff(M.req_ptr)
    key_skill[n_req > 0] = M.req_skill[M.req_ptr[:-1][n_req > 0]]
    groups: dict[tuple[str, str], int] = {}
    for m in np.flatnonzero(short > 0).tolist():
        sk = problem.skills[key_skill[m]] if key_skill[m] >= 0 else "(none)"
        dp = str(names[dep[m]]) if dep is not None and dep[m] >= 0 else "(outside France)"
        groups[(sk, dp)] = groups.get((sk, dp), 0) + int(short[m])
    rows = [{"skill": s, "departement": d, "seats_short": n} for (s, d), n in groups.items()]
    rows.sort(key=lambda r: (-r["seats_short"], r["skill"], r["departement"]))
    return {"seats": seats, "max_filled": int(f.optimal_flow()), "shortfall": seats - int(f.optimal_flow()),
            "groups": rows[:top] if top else rows}


def breakdown(problem: Problem, solution: Solution, policy: Policy | None = None) -> dict[str, Any]:
    """The objective by term (weighted and raw totals) and the constraints that bind."""
    policy = policy or solution.policy or Policy.preset("max_hours")
    E, M, er = problem.employees, problem.missions, problem.employers
    se, sm = _pairs(problem, solution)
    km = haversine_km(E.lat[se], E.lon[se], M.lat[sm], M.lon[sm])
    terms = arc_terms(problem, se, sm, km)
    w = policy.weights()
    by_term = {t: {"total": float(terms[t].sum()), "weight": w[t], "contribution": float(w[t] * terms[t].sum())}
               for t in TERMS}
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
        binding["employers_at_budget"] = int(np.count_nonzero(np.isfinite(er.hours_budget) & (spent >= er.hours_budget - 1e-9)))
    return {"objective": float(policy.score(terms).sum()), "terms": by_term, "binding": binding}


def diff(problem: Problem, a: Solution, b: Solution, policy: Policy | None = None) -> dict[str, Any]:
    """Who moved from solution ``a`` to ``b``, and the change in each objective term."""
    E, M = problem.employees, problem.missions
    ae, am = _pairs(problem, a)
    be, bm = _pairs(problem, b)
    A = {}
    for e, m in zip(ae.tolist(), am.tolist()):
        A.setdefault(e, set()).add(m)
    B = {}
    for e, m in zip(be.tolist(), bm.tolist()):
        B.setdefault(e, set()).add(m)
    moved = []
    for e in sorted(set(A) | set(B)):
        x, y = A.get(e, set()), B.get(e, set())
        if x != y:
            moved.append({"employee": E.ids[e], "from": sorted(M.ids[list(x)].tolist()), "to": sorted(M.ids[list(y)].tolist())})
    ta = breakdown(problem, a, policy)["terms"]
    tb = breakdown(problem, b, policy)["terms"]
    return {"moved": moved, "terms": {t: tb[t]["total"] - ta[t]["total"] for t in TERMS},
            "objective": breakdown(problem, b, policy)["objective"] - breakdown(problem, a, policy)["objective"]}
