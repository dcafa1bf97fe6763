"""Shared helpers: a terse problem builder, an independent rule checker and a brute-force optimiser.

Everything here re-derives the rules of DESIGN.md §4 and the objective terms of
``koeeo_match.policy`` from the problem's arrays, without calling the candidate
graph, the solvers or ``km.check`` (except where ``brute_force`` asks ``km.check``
to judge the subsets it proposes).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from itertools import product

import numpy as np

import koeeo_match as km
from koeeo_match.model import NO_DATE

R_KM = 6371.0088
EPOCH = dt.date(1970, 1, 1)

# Problems without any employer record are exercised as they are (no padding).
PAD_EMPTY_EMPLOYERS = False
PAD_EMPLOYER = {"id": "_unused"}

DEFAULT_ASSOCIATION = {"id": "a", "lat": 45.0, "lon": 5.0}


def make(employees=(), missions=(), associations=None, employers=(), **lists) -> km.Problem:
    """Build a Problem from records.

    Defaults: one association ``"a"`` at (45.0, 5.0); employees at (45.0, 5.0);
    missions posted by ``"a"``.  ``lists`` are ``forced``, ``forbidden``, ``affinities``.
    """
    associations = [dict(DEFAULT_ASSOCIATION)] if associations is None else list(associations)
    employees = [{"lat": 45.0, "lon": 5.0, **e} for e in employees]
    missions = [{"association": "a", **m} for m in missions]
    employers = list(employers)
    if PAD_EMPTY_EMPLOYERS and not employers:
        employers = [dict(PAD_EMPLOYER)]
    return km.Problem.from_records(
        employees=employees, missions=missions, associations=associations, employers=employers, **lists
    )


def day(text: str) -> int:
    return (dt.date.fromisoformat(text) - EPOCH).days


def haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R_KM * math.asin(math.sqrt(min(a, 1.0)))


# ----------------------------------------------------------------------------- eligibility
def _required(p: km.Problem, m: int) -> list[tuple[int, int]]:
    M = p.missions
    sl = slice(int(M.req_ptr[m]), int(M.req_ptr[m + 1]))
    return list(zip(M.req_skill[sl].tolist(), M.req_level[sl].tolist()))


def pair_km(p: km.Problem, e: int, m: int) -> float:
    E, M = p.employees, p.missions
    return haversine(float(E.lat[e]), float(E.lon[e]), float(M.lat[m]), float(M.lon[m]))


def ineligible_rules(p: km.Problem, e: int, m: int) -> set[str]:
    """The eligibility rules (check.py rule names) that pair (e, m) breaks."""
    E, M, ER = p.employees, p.missions, p.employers
    out = set()
    if any(int(E.skill_level[e, s]) < lv for s, lv in _required(p, m)):
        out.add("skill")
    d = int(M.date[m])
    if d != NO_DATE and not E.always_available[e]:
        sl = slice(int(E.avail_ptr[e]), int(E.avail_ptr[e + 1]))
        if not any(s <= d <= t for s, t in zip(E.avail_start[sl].tolist(), E.avail_end[sl].tolist())):
            out.add("availability")
    # DESIGN §8: both known strictly before a dated mission happens; missing = known from the start
    known = [x for x in (int(E.joined[e]), int(M.posted[m])) if x != NO_DATE]
    if d != NO_DATE and known and max(known) >= d:
        out.add("known_in_time")
    # DESIGN §4: "m is remote and the employee is remote_ok, or the distance is <= max_km".
    far = pair_km(p, e, m) > float(E.max_km[e])
    if M.remote[m]:
        if far and not E.remote_ok[e]:
            out.add("remote")
    elif far:
        out.add("distance")
    c = int(E.employer[e])
    if c >= 0:
        excl = ER.excl_assoc[int(ER.excl_ptr[c]) : int(ER.excl_ptr[c + 1])].tolist()
        if int(M.association[m]) in excl:
            out.add("excluded")
    if (e, m) in set(zip(p.forbidden.employee.tolist(), p.forbidden.mission.tolist())):
        out.add("forbidden")
    return out


def eligible_pairs(p: km.Problem) -> list[tuple[int, int]]:
    return [(e, m) for e, m in product(range(p.n_employees), range(p.n_missions)) if not ineligible_rules(p, e, m)]


# ----------------------------------------------------------------------------- rules on a set of pairs
def violated_rules(p: km.Problem, pairs) -> set[str]:
    """Independent re-implementation of every rule: the set of check.py rule names broken.

    ``pairs`` are (employee id, mission id).
    """
    E, M, ER = p.employees, p.missions, p.employers
    ei = {k: i for i, k in enumerate(E.ids.tolist())}
    mi = {k: i for i, k in enumerate(M.ids.tolist())}
    out: set[str] = set()
    idx: list[tuple[int, int]] = []
    for a, b in pairs:
        if a not in ei or b not in mi:
            out.add("unknown_id")
        elif (ei[a], mi[b]) in idx:
            out.add("duplicate")
        else:
            idx.append((ei[a], mi[b]))
    for e, m in idx:
        out |= ineligible_rules(p, e, m)
    hours: dict[int, float] = {}
    per_date: dict[tuple[int, int], int] = {}
    count: dict[int, int] = {}
    per_emp: dict[tuple[int, int], int] = {}
    away: dict[tuple[int, int], set[int]] = {}
    spent: dict[int, float] = {}
    for e, m in idx:
        h, d, c = float(M.hours[m]), int(M.date[m]), int(E.employer[e])
        hours[e] = hours.get(e, 0.0) + h
        count[m] = count.get(m, 0) + 1
        if d != NO_DATE:
            per_date[e, d] = per_date.get((e, d), 0) + 1
        if c >= 0:
            per_emp[m, c] = per_emp.get((m, c), 0) + 1
            spent[c] = spent.get(c, 0.0) + h
            if d != NO_DATE:
                away.setdefault((c, d), set()).add(e)
    if any(h > float(E.hours[e]) + 1e-9 for e, h in hours.items()):
        out.add("employee_hours")
    if any(n > 1 for n in per_date.values()):
        out.add("one_per_date")
    if any(n > int(M.seats[m]) for m, n in count.items()):
        out.add("seats")
    if any(0 < n < int(M.min_seats[m]) for m, n in count.items()):
        out.add("team_minimum")
    if any(M.max_per_employer[m] >= 0 and n > M.max_per_employer[m] for (m, c), n in per_emp.items()):
        out.add("max_per_employer")
    if any(ER.daily_cap[c] >= 0 and len(s) > ER.daily_cap[c] for (c, d), s in away.items()):
        out.add("daily_cap")
    if any(h > float(ER.hours_budget[c]) + 1e-9 for c, h in spent.items()):
        out.add("hours_budget")
    if set(zip(p.forced.employee.tolist(), p.forced.mission.tolist())) - set(idx):
        out.add("forced")
    return out


# ----------------------------------------------------------------------------- objective
SMALL_STAFF = 2  # docs/model.md: a small association has at most 2 salaried staff
CO2_PER_KM = 0.19  # DESIGN.md §6
COST_TERMS = ("travel_km", "co2_kg")


@functools.cache
def is_rural(lat: float, lon: float) -> bool:
    """Nearest département centre (haversine) within 120 km has density class rural."""
    D = km.synth.departements()
    d = [haversine(lat, lon, float(D.lat[i]), float(D.lon[i])) for i in range(len(D))]
    i = int(np.argmin(d))
    return d[i] <= 120.0 and str(D.density_class[i]) == "rural"


def pair_terms(p: km.Problem, e: int, m: int) -> dict[str, float]:
    """The objective terms of policy.py's docstring for one pair."""
    E, M, A = p.employees, p.missions, p.associations
    h = float(M.hours[m])
    req = _required(p, m)
    fit = sum(1 - 0.25 * (int(E.skill_level[e, s]) - lv) for s, lv in req) / len(req) if req else 0.0
    a = int(M.association[m])
    sector = int(A.sector[a])
    pref = 0.0
    sl = slice(int(E.pref_ptr[e]), int(E.pref_ptr[e + 1]))
    for s, w in zip(E.pref_sector[sl].tolist(), E.pref_weight[sl].tolist()):
        if sector >= 0 and s == sector:
            pref = w
    aff = 0.0
    for x, y, s in zip(p.affinities.employee.tolist(), p.affinities.mission.tolist(), p.affinities.score.tolist()):
        if (x, y) == (e, m):
            aff = s
    travel = 0.0 if M.remote[m] and E.remote_ok[e] else 2 * pair_km(p, e, m)  # a remote mission in person: a trip
    staff = int(A.staff[a])
    return {
        "hours": h,
        "seats": 1.0,
        "skill_fit": fit,
        "preference": pref,
        "priority": float(A.priority[a]) * h,
        "travel_km": travel,
        "affinity": aff,
        "small_association": h if 0 <= staff <= SMALL_STAFF else 0.0,
        "rural": h if is_rural(float(A.lat[a]), float(A.lon[a])) else 0.0,
        "co2_kg": CO2_PER_KM * travel,
    }


def pair_value(p: km.Problem, policy: km.Policy, e: int, m: int) -> tuple[float, float]:
    """(primary, secondary) score of one pair; primary is 0 for a non-lexicographic policy."""
    t = pair_terms(p, e, m)
    prim = sec = 0.0
    for name in km.TERMS:
        w = getattr(policy, name) * (-1 if name in COST_TERMS else 1)
        if name in policy.primary:
            prim += w * t[name]
        else:
            sec += w * t[name]
    return prim, sec


def value(p: km.Problem, policy: km.Policy, pairs) -> tuple[float, float]:
    """(primary sum, secondary sum) of a set of (employee id, mission id) pairs."""
    ei = {k: i for i, k in enumerate(p.employees.ids.tolist())}
    mi = {k: i for i, k in enumerate(p.missions.ids.tolist())}
    v = [pair_value(p, policy, ei[a], mi[b]) for a, b in pairs]
    return sum(x for x, _ in v), sum(y for _, y in v)


# ----------------------------------------------------------------------------- brute force
class BruteForce:
    """Best subset found: ``pairs`` (ids), ``primary``, ``secondary``; ``pairs is None`` if none is feasible."""

    def __init__(self, pairs, primary, secondary):
        self.pairs, self.primary, self.secondary = pairs, primary, secondary

    def __repr__(self):
        return f"BruteForce({self.pairs}, primary={self.primary}, secondary={self.secondary})"


def brute_force(p: km.Problem, policy: km.Policy | str = "max_hours", max_pairs: int = 16) -> BruteForce:
    """Optimum over every subset of eligible pairs.

    Feasibility of a candidate optimum is judged by ``km.check`` (the independent
    verifier); the enumeration only skips supersets of sets that already break a
    monotone capacity rule (hours, dates, seats, per-employer caps), using this
    file's own rule logic, and branches whose best possible value cannot win.
    Value: the policy's terms summed per pair, compared as (primary, secondary)
    for a lexicographic policy.
    """
    if isinstance(policy, str):
        policy = km.Policy.parse(policy)
    E, M, ER = p.employees, p.missions, p.employers
    arcs = eligible_pairs(p)
    assert len(arcs) <= max_pairs, f"instance too large for brute force: {len(arcs)} eligible pairs"
    vals = [pair_value(p, policy, e, m) for e, m in arcs]
    lex = bool(policy.primary)
    # remaining optimistic value from position i on
    rem_p = [0.0] * (len(arcs) + 1)
    rem_s = [0.0] * (len(arcs) + 1)
    for i in range(len(arcs) - 1, -1, -1):
        rem_p[i] = rem_p[i + 1] + max(vals[i][0], 0.0)
        rem_s[i] = rem_s[i + 1] + max(vals[i][1], 0.0)
    forced = set(zip(p.forced.employee.tolist(), p.forced.mission.tolist()))
    eids, mids = E.ids.tolist(), M.ids.tolist()

    best = {"key": None, "pairs": None}
    hours: dict[int, float] = {}
    per_date: set[tuple[int, int]] = set()
    count: dict[int, int] = {}
    per_emp: dict[tuple[int, int], int] = {}
    away: dict[tuple[int, int], int] = {}
    spent: dict[int, float] = {}
    chosen: list[int] = []

    def key_of(cp, cs):
        return (round(cp, 9), cs) if lex else (round(cs, 9),)

    def can_take(e, m):
        h, d, c = float(M.hours[m]), int(M.date[m]), int(E.employer[e])
        if hours.get(e, 0.0) + h > float(E.hours[e]) + 1e-9:
            return False
        if d != NO_DATE and (e, d) in per_date:
            return False
        if count.get(m, 0) + 1 > int(M.seats[m]):
            return False
        if c >= 0:
            if M.max_per_employer[m] >= 0 and per_emp.get((m, c), 0) + 1 > M.max_per_employer[m]:
                return False
            if d != NO_DATE and ER.daily_cap[c] >= 0 and away.get((c, d), 0) + 1 > ER.daily_cap[c]:
                return False
            if spent.get(c, 0.0) + h > float(ER.hours_budget[c]) + 1e-9:
                return False
        return True

    def take(e, m, sign):
        h, d, c = float(M.hours[m]), int(M.date[m]), int(E.employer[e])
        hours[e] = hours.get(e, 0.0) + sign * h
        count[m] = count.get(m, 0) + sign
        if d != NO_DATE:
            (per_date.add if sign > 0 else per_date.discard)((e, d))
        if c >= 0:
            per_emp[m, c] = per_emp.get((m, c), 0) + sign
            spent[c] = spent.get(c, 0.0) + sign * h
            if d != NO_DATE:
                away[c, d] = away.get((c, d), 0) + sign

    def leaf(cp, cs):
        k = key_of(cp, cs)
        if best["key"] is not None and k <= best["key"]:
            return
        chosen_set = {arcs[i] for i in chosen}
        if not forced <= chosen_set:
            return
        if any(0 < n < int(M.min_seats[m]) for m, n in count.items()):
            return
        pairs = [(eids[arcs[i][0]], mids[arcs[i][1]]) for i in chosen]
        violations = km.check(p, pairs)
        assert violations == [], f"km.check rejects a set the independent rules accept: {pairs} -> {violations}"
        best["key"], best["pairs"] = k, sorted(pairs)

    def dfs(i, cp, cs):
        if best["key"] is not None:
            if lex and round(cp + rem_p[i], 9) < best["key"][0]:
                return
            if not lex and cs + rem_s[i] < best["key"][0] - 1e-9:
                return
        if i == len(arcs):
            leaf(cp, cs)
            return
        e, m = arcs[i]
        if can_take(e, m):
            take(e, m, +1)
            chosen.append(i)
            dfs(i + 1, cp + vals[i][0], cs + vals[i][1])
            chosen.pop()
            take(e, m, -1)
        if arcs[i] not in forced:
            dfs(i + 1, cp, cs)

    dfs(0, 0.0, 0.0)
    if best["pairs"] is None:
        return BruteForce(None, None, None)
    prim, sec = value(p, policy, best["pairs"])
    return BruteForce(best["pairs"], prim, sec)


def total_hours(p: km.Problem, pairs) -> float:
    mi = {k: i for i, k in enumerate(p.missions.ids.tolist())}
    return float(sum(p.missions.hours[mi[m]] for _, m in pairs))
