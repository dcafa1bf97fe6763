"""Who prefers whom over the candidate graph: each arc's rank for its employee and its mission.

Each employee ranks its candidate missions and each mission ranks its
candidate employees, best first.  By default both rankings come from the
policy's integer arc score (higher is better); ties are broken by index
(an employee prefers the lower mission index, a mission the lower employee
index), so every ranking is strict and deterministic.  Explicit rankings
override them (see :func:`arc_ranks`).  Only candidate arcs can ever match,
and only those of positive integer score: an arc whose score is <= 0 never
raises the objective, so no method but CP-SAT (for a team minimum) assigns
it (docs/policies.md), and it is acceptable to neither side.

The ``stable`` solver proposes along these rankings and
:func:`koeeo_match.stability.blocking_pairs` judges its output against them;
both read them from here, and share nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._arrays import find_sorted
from ._params import param_error
from .candidates import CandidateGraph
from .model import Problem

__all__ = ["arc_ranks", "check_preferences", "restrict_preferences"]

_SIDES = ("employees", "missions")
_UNLISTED = 2**40  # rank offset of a listed agent's unlisted arcs (after every listed one)
_WORTHLESS = 2**41  # rank offset of an arc of score <= 0 (after every acceptable one)
_SHOW, _LINES = 5, 20  # unknown ids named per list, problems listed per error at most


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


class _Sorted:
    """Ids sorted once, to look many short lists up by bisection."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids, self.sorted, self.pos = ids, np.sort(ids), np.argsort(ids)

    def index(self, ids: list, where: str, what: str, problems: list[str]) -> np.ndarray:
        """Position of each of ``ids``, -1 if unknown; a line in ``problems`` naming the unknown ones
        (their first few)."""
        arr = np.asarray([str(x) for x in ids]) if ids else np.zeros(0, self.ids.dtype)
        at = find_sorted(self.sorted, arr)
        hit = at >= 0
        if not np.all(hit):
            bad = [str(x) for x in arr[~hit][:_SHOW]]
            more = f" (+{int((~hit).sum()) - len(bad)} more)" if (~hit).sum() > len(bad) else ""
            problems.append(f"{where}: unknown {what} id{'s' if len(bad) > 1 else ''} "
                            f"{', '.join(map(repr, bad))}{more}")
        out = np.full(arr.size, -1, np.int64)
        out[hit] = self.pos[at[hit]]
        return out


def _listed(side: str, given: Any, own_ids: np.ndarray, other_ids: np.ndarray, problems: list[str]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The agents of ``given`` and their lists: (listed agents, then for each listed partner: its
    agent, the partner, its position in the list); a line in ``problems`` for each thing wrong."""
    kind, other_kind = side[:-1], ("mission" if side == "employees" else "employee")
    empty = np.zeros(0, np.int64)
    if not isinstance(given, Mapping):
        problems.append(f"preferences[{side!r}] must be a dict of {kind} id -> list of {other_kind} ids, "
                        f"not {type(given).__name__}")
        return empty, empty, empty, empty
    own, other = _Sorted(own_ids), _Sorted(other_ids)
    agents = []
    for a in given.keys():
        if isinstance(a, str):
            agents.append(a)
        else:
            problems.append(f"preferences[{side!r}]: keys must be {kind} ids (str), not {a!r}")
    idx = own.index(agents, f"preferences[{side!r}]", kind, problems)
    own_l: list[np.ndarray] = []
    oth_l: list[np.ndarray] = []
    pos_l: list[np.ndarray] = []
    for a, i in zip(agents, idx.tolist()):
        lst = given[a]
        if isinstance(lst, (str, bytes)) or not isinstance(lst, Sequence):
            problems.append(f"preferences[{side!r}][{a!r}] must be a list of {other_kind} ids, best first, "
                            f"not {lst!r}")
            continue
        n_bad = len(problems)
        j = other.index(list(lst), f"preferences[{side!r}][{a!r}]", other_kind, problems)
        u, c = np.unique(j[j >= 0], return_counts=True)
        if (c > 1).any():
            problems.append(f"preferences[{side!r}][{a!r}]: {other_kind} id {str(other_ids[u[c > 1][0]])!r} "
                            "is listed twice")
        if len(problems) > n_bad or i < 0:
            continue
        own_l.append(np.full(j.size, i, np.int64))
        oth_l.append(j)
        pos_l.append(np.arange(j.size))
    known = idx[idx >= 0]
    if not own_l:
        return known, empty, empty, empty
    return known, np.concatenate(own_l), np.concatenate(oth_l), np.concatenate(pos_l)


def _parsed(problem: Problem, preferences: Any, fn: str
            ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Each side's :func:`_listed`; :class:`InvalidParameterError` listing every problem at once."""
    if not isinstance(preferences, Mapping):
        raise param_error(fn, "preferences", "must be a dict with keys 'employees' and/or 'missions'. "
                                             f"Got {type(preferences).__name__} instead.")
    problems: list[str] = []
    unknown = set(preferences) - set(_SIDES)
    if unknown:
        problems.append(f"unknown key(s) {sorted(map(str, unknown))}; expected 'employees' and/or 'missions'")
    ids = {"employees": problem.employees.ids, "missions": problem.missions.ids}
    out = {side: _listed(side, preferences[side], ids[side], ids[_SIDES[1 - _SIDES.index(side)]], problems)
           for side in _SIDES if side in preferences}
    if problems:
        n = len(problems)
        shown = problems[:_LINES] + ([f"(+{n - _LINES} more)"] if n > _LINES else [])
        raise param_error(fn, "preferences", f"has {n} problem{'s' if n > 1 else ''}:\n  " + "\n  ".join(shown))
    return out


def check_preferences(problem: Problem, preferences: Any, fn: str = "solve") -> None:
    """Check explicit rankings (see :func:`arc_ranks`) against ``problem``'s ids.

    Raises
    ------
    InvalidParameterError
        ``The 'preferences' parameter of {fn} has N problems:``, then every one: a value of
        a wrong type, an unknown key or id, a partner listed twice.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...                             employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}],
    ...                             missions=[{"id": "m1", "association": "a"}])
    >>> check_preferences(p, {"employees": {"e1": ["m1"]}})
    >>> check_preferences(p, {"employees": {"e1": ["m2", "m1", "m1"], "e9": []}, "mission": {}})
    Traceback (most recent call last):
    ...
    koeeo_match.errors.InvalidParameterError: The 'preferences' parameter of solve has 4 problems:
      unknown key(s) ['mission']; expected 'employees' and/or 'missions'
      preferences['employees']: unknown employee id 'e9'
      preferences['employees']['e1']: unknown mission id 'm2'
      preferences['employees']['e1']: mission id 'm1' is listed twice
    """
    _parsed(problem, preferences, fn)


def restrict_preferences(preferences: Mapping[str, Any], employee_ids: np.ndarray, mission_ids: np.ndarray
                         ) -> dict[str, dict[str, list[str]]]:
    """Checked ``preferences`` (:func:`check_preferences`) without the agents and partners that are
    not among ``employee_ids`` and ``mission_ids`` (what pinned pairs leave), each list's order kept.

    >>> restrict_preferences({"employees": {"e1": ["m1", "m2"], "e2": ["m2"]}}, np.array(["e1"]), np.array(["m2"]))
    {'employees': {'e1': ['m2']}}
    """
    kept = {"employees": set(np.asarray(employee_ids).astype(str).tolist()),
            "missions": set(np.asarray(mission_ids).astype(str).tolist())}
    out: dict[str, dict[str, list[str]]] = {}
    for side, given in preferences.items():
        own, other = kept[side], kept[_SIDES[1 - _SIDES.index(side)]]
        out[side] = {a: [str(x) for x in lst if str(x) in other] for a, lst in given.items() if a in own}
    return out


def _explicit(given: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], own_ids: np.ndarray,
              own_arc: np.ndarray, other_arc: np.ndarray, n_other: int,
              rank: np.ndarray, ok: np.ndarray) -> None:
    """Overwrite ``rank`` / ``ok`` of the agents listed in ``given`` (:func:`_listed`'s, in place)."""
    idx, own_v, oth_v, pos_v = given
    listed = np.zeros(own_ids.size, bool)
    listed[idx] = True
    # arcs of listed agents are unacceptable unless listed, and rank after every listed one
    mine = listed[own_arc]
    ok[mine] = False
    rank[mine] += _UNLISTED
    if not own_v.size:
        return
    # listed pairs -> arcs (pairs that are not candidate arcs are ineligible: ignored)
    arc_key = own_arc.astype(np.int64) * n_other + other_arc
    order = np.argsort(arc_key, kind="stable")
    sk = arc_key[order]
    q = own_v * n_other + oth_v
    at = find_sorted(sk, q)
    hit = at >= 0
    arcs = order[at[hit]]
    ok[arcs] = True
    rank[arcs] = pos_v[hit]


def arc_ranks(problem: Problem, graph: CandidateGraph,
              preferences: Mapping[str, Mapping[str, Sequence[str]]] | None = None, fn: str = "solve"
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
        not listed ranks all its candidate arcs by score.  Either way an arc
        whose integer score is <= 0 is acceptable to neither side, listed
        or not, as no other method assigns it.

    Returns
    -------
    erank, mrank : ndarray of int64
        Smaller is better; only comparable between arcs of the same
        employee (``erank``) or the same mission (``mrank``).
    acceptable : ndarray of bool
        Acceptable to both sides: of positive score, and listed by each side
        that lists its partners.  An unacceptable arc ranks after every
        acceptable one of its owner, on both sides.

    fn : str, default "solve"
        The public function whose parameter ``preferences`` is, as a message names it.

    Raises
    ------
    InvalidParameterError
        Every unknown id (named), partner listed twice, unknown key or malformed value at once
        (:func:`check_preferences`); a ``ValueError`` and a ``TypeError``.

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
    ok = graph.score > 0  # a pair of score <= 0 is never assigned (docs/policies.md)
    if preferences is None:
        return erank, mrank, ok
    parsed = _parsed(problem, preferences, fn)
    E, M = problem.employees.ids, problem.missions.ids
    if "employees" in parsed:
        ok_e = np.ones(ea.size, bool)
        _explicit(parsed["employees"], E, ea, ma, len(M), erank, ok_e)
        ok &= ok_e
    if "missions" in parsed:
        ok_m = np.ones(ea.size, bool)
        _explicit(parsed["missions"], M, ma, ea, len(E), mrank, ok_m)
        ok &= ok_m
    worthless = graph.score <= 0  # ranked last on both sides, even where a list names them
    erank[worthless] += _WORTHLESS
    mrank[worthless] += _WORTHLESS
    return erank, mrank, ok
