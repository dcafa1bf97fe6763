"""Seats that no allocation can fill (Hall's condition), by skill and département."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from .._params import Constraint, InstanceOf, Interval, validate
from ..candidates import eligible_pairs
from ..model import Problem
from ..policy import Policy
from ..territory import departement_of, departements

__all__ = ["shortfall"]


def _employee_capacity(problem: Problem, ea: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """Missions each employee can give at once: its candidates taken shortest first, within its hours."""
    E, M = problem.employees, problem.missions
    h = M.hours[ma]
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
    return np.bincount(ea[order][fits], minlength=len(E))


def _key_skill(problem: Problem) -> np.ndarray:
    """Each mission's required skill of the alphabetically first name (-1: none required).

    By name, not by position in ``problem.skills``, so that the same problem read back
    from a file (whose skill table may be in another order) gives the same key.
    """
    M = problem.missions
    key = np.full(len(M), -1, np.int64)
    n_req = np.diff(M.req_ptr)
    has = n_req > 0
    if not has.any():
        return key
    by_name = np.argsort(np.asarray(problem.skills, dtype=str), kind="stable")  # skill indices, names ascending
    rank = np.empty(by_name.size, np.int64)
    rank[by_name] = np.arange(by_name.size)
    first = np.minimum.reduceat(rank[M.req_skill], M.req_ptr[:-1][has])
    key[has] = by_name[first]
    return key


def _groups(problem: Problem, short: np.ndarray) -> list[dict[str, Any]]:
    """Empty seats by (key skill, département of the mission), largest first."""
    M = problem.missions
    dep = departement_of(M.lat, M.lon)
    names = departements().code
    key_skill = _key_skill(problem)
    where = np.flatnonzero(short > 0)
    sk = key_skill[where]
    dp = dep[where] if dep is not None else np.full(where.size, -1)
    key = (sk + 1) * (len(names) + 1) + (dp + 1)
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    total = np.zeros(uniq.size, np.int64)
    np.add.at(total, inv.reshape(-1), short[where].astype(np.int64))
    rows: list[dict[str, Any]] = [
        {"skill": problem.skills[s] if s >= 0 else "(none)",
         "departement": str(names[d]) if d >= 0 else "(outside France)", "seats_short": int(n)}
        for s, d, n in zip(sk[first].tolist(), dp[first].tolist(), total.tolist())]
    rows.sort(key=lambda r: (-r["seats_short"], r["skill"], r["departement"]))
    return rows


_PARAMS: dict[str, list[Constraint | None]] = {
    "problem": [InstanceOf(Problem, "a Problem")],
    "top": [Interval(Integral, 0, None, closed="left"), None],
    "top_k": [Interval(Integral, 1, None, closed="left"), None],  # as solve's
}


def shortfall(problem: Problem, *, top: int | None = None, top_k: int | None = None) -> dict[str, Any]:
    """Seats that no allocation can fill, by skill and département.

    A maximum flow on the candidate graph (each employee giving as many
    missions as its hours allow at the shortest durations, each mission its
    seats) gives the largest number of seats that can be filled at once; by
    Hall's theorem (deficiency version) ``total seats - max flow`` is the
    shortfall, and the seats left empty by the maximum flow locate it.

    Parameters
    ----------
    problem : Problem
    top : int, optional
        Keep the ``top`` largest groups: an integer >= 0 (0: none; None:
        every one).
    top_k : int, optional
        Run the flow on the candidate graph capped at ``top_k`` arcs per
        employee and per mission (national scale), an integer >= 1; its
        shortfall is an upper estimate of the true one.

    Returns
    -------
    dict
        ``seats``, ``max_filled``, ``shortfall`` and ``groups``: a list of
        ``{"skill", "departement", "seats_short"}`` sorted by size (then skill and
        département).  A mission counts under its required skill whose name comes
        first alphabetically (``"(none)"`` without one) and the département nearest
        its place: groups depend on the problem's content only, not on the order
        of its skill table (a problem and its file give the same groups).

    Raises
    ------
    InvalidParameterError
        ``problem`` is not a Problem, ``top`` is not an integer >= 0 or None,
        ``top_k`` is not an integer >= 1 or None.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0, "skills": {"law": 2}}],
    ...     missions=[{"id": "m1", "association": "a", "seats": 3, "skills": {"law": 1}}])
    >>> r = km.shortfall(p)
    >>> r["seats"], r["max_filled"], r["shortfall"]
    (3, 1, 2)
    """
    validate("shortfall", _PARAMS, {"problem": problem, "top": top, "top_k": top_k})
    from ortools.graph.python import max_flow

    E, M = problem.employees, problem.missions
    ea, ma, _ = eligible_pairs(problem, k=None if top_k is None else int(top_k), policy=Policy.preset("max_hours"))
    k = _employee_capacity(problem, ea, ma)
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
    rows = _groups(problem, short)
    return {"seats": seats, "max_filled": int(f.optimal_flow()), "shortfall": seats - int(f.optimal_flow()),
            "groups": rows if top is None else rows[:int(top)]}
