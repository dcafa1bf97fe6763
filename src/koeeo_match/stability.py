"""Stability of an assignment: preferences over candidate arcs, and blocking pairs.

Preferences
-----------
Each employee ranks its candidate missions and each mission ranks its
candidate employees, best first.  By default both rankings come from the
policy's integer arc score (higher is better); ties are broken by index
(an employee prefers the lower mission index, a mission the lower employee
index), so every ranking is strict and deterministic.  Explicit rankings
override them (see :func:`arc_ranks`).  Only candidate arcs can ever match.

Stability
---------
An employee may hold several missions: as many as its hours entitlement
allows, at most one per date.  A mission holds at most ``seats`` employees.
An eligible, acceptable pair ``(e, m)`` that is not assigned **blocks** the
solution when both sides would rather have it:

- ``e`` wants ``m``: ``m`` fits next to ``e``'s missions (hours left and no
  mission on ``m``'s date), or ``e`` ranks ``m`` above one of its missions
  ``m'`` whose replacement by ``m`` fits (hours, and ``m'`` is the only one
  of ``e``'s missions on ``m``'s date, if any);
- ``m`` wants ``e``: ``m`` has a free seat, or ranks ``e`` above its worst
  assigned employee.

A solution is stable when no pair blocks it.  This module shares no code
with the ``stable`` solver's proposal logic: it is the independent judge of
its output.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .candidates import CandidateGraph, build_candidates
from .model import NO_DATE, Problem
from .policy import Policy

__all__ = ["arc_ranks", "blocking_pairs"]

_SIDES = ("employees", "missions")
_UNLISTED = 2**40  # rank offset of a listed agent's unlisted arcs (after every listed one)


def _rank_within(owner: np.ndarray, key: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Position of each arc in its owner's list sorted by (key ascending, tie ascending)."""
    order = np.lexsort((tie, key, owner))
    o = owner[order]
    start = np.ones(o.size, bool)
    start[1:] = o[1:] != o[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(o.size), 0))
    rank = np.empty(o.size, np.int64)
    rank[order] = np.arange(o.size) - first
    return rank


def _explicit(side: str, given: Any, own_ids: np.ndarray, other_ids: np.ndarray,
              own_arc: np.ndarray, other_arc: np.ndarray, n_other: int,
              rank: np.ndarray, ok: np.ndarray) -> None:
    """Overwrite ``rank`` / ``ok`` of the agents listed in ``given`` (in place)."""
    kind, other_kind = side[:-1], ("mission" if side == "employees" else "employee")
    if not isinstance(given, Mapping):
        raise TypeError(f"preferences[{side!r}] must be a dict of {kind} id -> list of {other_kind} ids. "
                        f"Got {type(given).__name__} instead.")
    own_sorted, own_pos = np.sort(own_ids), np.argsort(own_ids)
    oth_sorted, oth_pos = np.sort(other_ids), np.argsort(other_ids)

    def index_of(ids: list, sorted_ids, pos, what: str, where: str) -> np.ndarray:
        arr = np.asarray([str(x) for x in ids]) if ids else np.zeros(0, own_ids.dtype)
        at = np.minimum(np.searchsorted(sorted_ids, arr), max(sorted_ids.size - 1, 0))
        hit = (sorted_ids.size > 0) & (sorted_ids[at] == arr) if arr.size else np.zeros(0, bool)
        if not np.all(hit):
            bad = str(arr[~hit][0])
            raise ValueError(f"preferences[{side!r}]{where}: unknown {what} id {bad!r}.")
        return pos[at].astype(np.int64)

    agents = list(given.keys())
    for a in agents:
        if not isinstance(a, str):
            raise TypeError(f"preferences[{side!r}]: keys must be {kind} ids (str). Got {a!r} instead.")
    idx = index_of(agents, own_sorted, own_pos, kind, "")
    listed = np.zeros(own_ids.size, bool)
    listed[idx] = True
    # arcs of listed agents are unacceptable unless listed, and rank after every listed one
    mine = listed[own_arc]
    ok[mine] = False
    rank[mine] += _UNLISTED
    own_l, oth_l, pos_l = [], [], []
    for a, i in zip(agents, idx.tolist()):
        lst = given[a]
        if isinstance(lst, (str, bytes)) or not isinstance(lst, Sequence):
            raise TypeError(f"preferences[{side!r}][{a!r}] must be a list of {other_kind} ids, best first. "
                            f"Got {lst!r} instead.")
        j = index_of(list(lst), oth_sorted, oth_pos, other_kind, f"[{a!r}]")
        if np.unique(j).size != j.size:
            u, c = np.unique(j, return_counts=True)
            raise ValueError(f"preferences[{side!r}][{a!r}]: {other_kind} id {str(other_ids[u[c > 1][0]])!r} "
                             "is listed twice.")
        own_l.append(np.full(j.size, i, np.int64)), oth_l.append(j), pos_l.append(np.arange(j.size))
    if not own_l:
        return
    own_v, oth_v, pos_v = (np.concatenate(x) for x in (own_l, oth_l, pos_l))
    # listed pairs -> arcs (pairs that are not candidate arcs are ineligible: ignored)
    arc_key = own_arc.astype(np.int64) * n_other + other_arc
    order = np.argsort(arc_key, kind="stable")
    sk = arc_key[order]
    q = own_v * n_other + oth_v
    at = np.minimum(np.searchsorted(sk, q), max(sk.size - 1, 0))
    hit = (sk[at] == q) if sk.size else np.zeros(q.size, bool)
    arcs = order[at[hit]]
    ok[arcs] = True
    rank[arcs] = pos_v[hit]


def arc_ranks(problem: Problem, graph: CandidateGraph,
              preferences: Mapping[str, Mapping[str, Sequence[str]]] | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each arc's rank for its employee and for its mission (0 = best), and whether it is acceptable.

    Parameters
    ----------
    problem : Problem
    graph : CandidateGraph
        The candidate arcs; their ``score`` gives the default rankings.
    preferences : dict, optional
        ``{"employees": {employee id: [mission id, ...]}, "missions":
        {mission id: [employee id, ...]}}``, best first; either key may be
        left out.  A listed agent accepts only the partners it lists (pairs
        that are not candidate arcs are ineligible and ignored); an agent
        not listed ranks all its candidate arcs by score.

    Returns
    -------
    erank, mrank : ndarray of int64
        Smaller is better; only comparable between arcs of the same
        employee (``erank``) or the same mission (``mrank``).
    acceptable : ndarray of bool
        Acceptable to both sides.

    Raises
    ------
    ValueError
        An unknown id (named), a partner listed twice, or an unknown key.
    TypeError
        A malformed ``preferences`` value.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a"}, {"id": "m2", "association": "a"}])
    >>> g = km.build_candidates(p, km.Policy.preset("max_hours"))
    >>> erank, mrank, ok = arc_ranks(p, g, {"employees": {"e1": ["m2", "m1"]}})
    >>> erank.tolist(), ok.tolist()
    ([1, 0], [True, True])
    """
    ea, ma = graph.employee, graph.mission
    neg = -graph.score
    erank = _rank_within(ea, neg, ma)
    mrank = _rank_within(ma, neg, ea)
    ok = np.ones(ea.size, bool)
    if preferences is None:
        return erank, mrank, ok
    if not isinstance(preferences, Mapping):
        raise TypeError(f"The 'preferences' parameter must be a dict with keys 'employees' and/or 'missions'. "
                        f"Got {type(preferences).__name__} instead.")
    unknown = set(preferences) - set(_SIDES)
    if unknown:
        raise ValueError(f"The 'preferences' parameter has unknown key(s) {sorted(map(str, unknown))}; "
                         "expected 'employees' and/or 'missions'.")
    E, M = problem.employees.ids, problem.missions.ids
    if "employees" in preferences:
        ok_e = np.ones(ea.size, bool)
        _explicit("employees", preferences["employees"], E, M, ea, ma, len(M), erank, ok_e)
        ok &= ok_e
    if "missions" in preferences:
        ok_m = np.ones(ea.size, bool)
        _explicit("missions", preferences["missions"], M, E, ma, ea, len(E), mrank, ok_m)
        ok &= ok_m
    return erank, mrank, ok


def _assigned_arcs(problem: Problem, graph: CandidateGraph, solution: Any) -> np.ndarray:
    """Arc index of each assigned pair (ValueError naming a pair that is no candidate arc)."""
    E, M = problem.employees.ids, problem.missions.ids
    e_idx = getattr(solution, "employee", None)
    m_idx = getattr(solution, "mission", None)
    if e_idx is not None and m_idx is not None and getattr(solution, "problem", None) is problem:
        e_idx, m_idx = np.asarray(e_idx, np.int64), np.asarray(m_idx, np.int64)
    else:
        pairs = list(getattr(solution, "assignments", solution))
        eids = np.asarray([str(a) for a, _ in pairs]) if pairs else np.zeros(0, str)
        mids = np.asarray([str(b) for _, b in pairs]) if pairs else np.zeros(0, str)
        e_idx, m_idx = [], []
        for ids, q, kind, out in ((E, eids, "employee", e_idx), (M, mids, "mission", m_idx)):
            order = np.argsort(ids)
            s = ids[order]
            at = np.minimum(np.searchsorted(s, q), max(s.size - 1, 0))
            hit = (s[at] == q) if s.size and q.size else np.zeros(q.size, bool)
            if not hit.all():
                raise ValueError(f"The solution names an unknown {kind} id {str(q[~hit][0])!r}.")
            out.append(order[at].astype(np.int64))
        e_idx, m_idx = e_idx[0], m_idx[0]
    key = graph.employee.astype(np.int64) * len(M) + graph.mission
    q = e_idx * len(M) + m_idx
    at = np.minimum(np.searchsorted(key, q), max(key.size - 1, 0))
    hit = (key[at] == q) if key.size else np.zeros(q.size, bool)
    if not hit.all():
        i = int(np.flatnonzero(~hit)[0])
        raise ValueError(f"The solution assigns ({str(E[e_idx[i]])!r}, {str(M[m_idx[i]])!r}), which is not an eligible "
                         "pair; check it with km.check first.")
    arcs = at.astype(np.int64)
    if np.unique(arcs).size != arcs.size:
        raise ValueError("The solution assigns the same pair twice; check it with km.check first.")
    return arcs


def blocking_pairs(problem: Problem, solution: Any, policy: Policy | str | None = None,
                   preferences: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                   *, top_k: int | None = None) -> list[tuple[str, str]]:
    """The pairs that block ``solution`` (``[]`` when it is stable), by employee then mission id order.

    Vectorised over the candidate arcs (see the module docstring for the
    definition).

    Parameters
    ----------
    problem : Problem
    solution : Solution or iterable of (employee id, mission id)
    policy : Policy or str, optional
        Ranks the arcs when ``preferences`` does not; default: the
        solution's policy, else ``max_hours``.
    preferences : dict, optional
        Explicit rankings, as for :func:`arc_ranks`.
    top_k : int, optional
        Judge on the candidate graph capped at ``top_k`` arcs per employee
        and per mission (as ``solve(..., top_k=...)`` built it): pairs
        outside it cannot block.

    Returns
    -------
    list of (employee id, mission id)

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a"}, {"id": "m2", "association": "a"}])
    >>> prefs = {"employees": {"e1": ["m1", "m2"], "e2": ["m1", "m2"]},
    ...          "missions": {"m1": ["e2", "e1"], "m2": ["e1", "e2"]}}
    >>> blocking_pairs(p, [("e1", "m1"), ("e2", "m2")], preferences=prefs)
    [('e2', 'm1')]
    >>> blocking_pairs(p, [("e2", "m1"), ("e1", "m2")], preferences=prefs)
    []
    """
    if policy is None:
        policy = getattr(solution, "policy", None) or Policy.preset("max_hours")
    elif isinstance(policy, str):
        policy = Policy.parse(policy)
    graph = build_candidates(problem, policy, k=top_k)
    erank, mrank, ok = arc_ranks(problem, graph, preferences)
    sel = _assigned_arcs(problem, graph, solution)
    emp, mis = problem.employees, problem.missions
    ea, ma = graph.employee.astype(np.int64), graph.mission.astype(np.int64)
    n_arcs, E, Mn = ea.size, len(emp), len(mis)
    if n_arcs == 0:
        return []
    assigned = np.zeros(n_arcs, bool)
    assigned[sel] = True
    hours = mis.hours
    tol = 1e-6  # hours are exact to 1e-6 h (see policy.exact_factor)

    # ---- the employee side
    used = np.bincount(ea[sel], weights=hours[ma[sel]], minlength=E)
    left = emp.hours - used
    h = hours[ma]
    fits_free = h <= left[ea] + tol
    # the employee's mission on the arc's date, if any (-1)
    d = mis.date[ma].astype(np.int64)
    dated = d != NO_DATE
    sd = sel[dated[sel]]
    on_date = np.full(n_arcs, -1, np.int64)
    if sd.size:
        key_s = ea[sd] * 2**33 + (d[sd] + 2**31)
        o = np.argsort(key_s)
        ks, arc_s = key_s[o], sd[o]
        q = ea * 2**33 + (d + 2**31)
        at = np.minimum(np.searchsorted(ks, q), ks.size - 1)
        hit = dated & (ks[at] == q)
        on_date[hit] = arc_s[at[hit]]
    has_date_clash = on_date >= 0
    free_ok = fits_free & ~has_date_clash
    # swap with the same-date mission
    oc = np.maximum(on_date, 0)
    swap_date = has_date_clash & (erank[oc] > erank) & (h <= left[ea] + h[oc] + tol)
    # swap with any worse mission (when no date clash): the longest mission e ranks below m
    swap_any = np.zeros(n_arcs, bool)
    if sel.size:
        # assigned arcs sorted by (employee, erank); suffix max of hours within each employee
        o = np.lexsort((erank[sel], ea[sel]))
        sa = sel[o]
        se, sr, sh = ea[sa], erank[sa], h[sa]
        # suffix max per employee: scan reversed, restart at each employee boundary
        rev_e, rev_h = se[::-1], sh[::-1]
        start = np.ones(rev_e.size, bool)
        start[1:] = rev_e[1:] != rev_e[:-1]
        seg = np.cumsum(start) - 1
        span = float(hours.max()) + 1.0
        sufmax = (np.maximum.accumulate(rev_h + seg * span) - seg * span)[::-1]
        q_e, q_r = ea, erank
        # first assigned arc of e with erank > r: search on the (e, erank) order
        key_s = se * (n_arcs + 1) + sr
        at = np.searchsorted(key_s, q_e * (n_arcs + 1) + q_r, side="right")
        atc = np.minimum(at, sa.size - 1)
        valid = (at < sa.size) & (se[atc] == q_e)
        swap_any = ~has_date_clash & valid & (h <= left[ea] + sufmax[atc] + tol)
    e_wants = free_ok | swap_date | swap_any

    # ---- the mission side
    count = np.bincount(ma[sel], minlength=Mn)
    worst = np.full(Mn, -1, np.int64)
    np.maximum.at(worst, ma[sel], mrank[sel])
    m_wants = (count[ma] < mis.seats[ma]) | (mrank < worst[ma])

    block = np.flatnonzero(ok & ~assigned & e_wants & m_wants)
    return list(zip(emp.ids[ea[block]].tolist(), mis.ids[ma[block]].tolist()))
