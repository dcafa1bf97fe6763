"""Capacity already taken, and a problem restricted to some of its employees and missions.

A solve with pinned assignments (``km.solve(..., fixed=F)``) solves the
*reduced problem*: what the pinned pairs leave.  Most of what they take is a
column of the tables (seats, entitlement hours, an employer's hours budget, the
days an employee is away); the rest is per group and has no column, so a
reduced problem carries it in :class:`Taken`:

- places of a ``(mission, employer)`` pair already taken (``max_per_employer``),
- employees of an employer already away on a date (``daily_cap``),
- the missions that pinned volunteers staffed below their team minimum: they
  *must* get ``min_seats`` more (``0`` more is not an option, the team exists).

:func:`restrict` keeps some employees and missions of a problem, every table,
pair list and :class:`Taken` re-indexed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._tables import Pairs, _freeze

if TYPE_CHECKING:
    from ._problem import Problem

__all__ = ["Taken", "restrict"]


@dataclass(frozen=True, eq=False)
class Taken:
    """Capacity of per-group rules already used (by pinned assignments), and the teams they started.

    Attributes
    ----------
    mc_mission, mc_employer, mc_count : ndarray of int32
        ``mc_count[i]`` places of mission ``mc_mission[i]`` are taken by employees of employer
        ``mc_employer[i]`` (counted against ``max_per_employer``).
    cd_employer, cd_date, cd_count : ndarray of int32
        ``cd_count[i]`` employees of employer ``cd_employer[i]`` are away on day ``cd_date[i]``
        (counted against ``daily_cap``).
    staffed : ndarray of bool
        Per mission: pinned volunteers started its team below the minimum, so it must get at
        least ``min_seats`` more (its ``min_seats`` is what is still missing).

    Examples
    --------
    >>> t = Taken.none(3)
    >>> t.staffed.tolist(), t.mc_count.size
    ([False, False, False], 0)
    """

    mc_mission: np.ndarray
    mc_employer: np.ndarray
    mc_count: np.ndarray
    cd_employer: np.ndarray
    cd_date: np.ndarray
    cd_count: np.ndarray
    staffed: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    @staticmethod
    def none(n_missions: int) -> Taken:
        """Nothing taken, for a problem of ``n_missions`` missions."""
        z = np.zeros(0, np.int32)
        return Taken(z, z, z, z, z, z, np.zeros(n_missions, bool))


#: CSR columns of a table: the pointer and the value arrays it indexes.
_CSR = {"avail_ptr": ("avail_start", "avail_end"), "pref_ptr": ("pref_sector", "pref_weight"),
        "req_ptr": ("req_skill", "req_level")}


def _rows(table: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` of a table (every per-row column, CSR columns gathered), same type."""
    n = len(table)
    kw: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(table):
        if f.name in kw:
            continue
        v = getattr(table, f.name)
        if f.name in _CSR:
            counts = np.diff(v)[idx]
            ptr = np.zeros(idx.size + 1, np.int64)
            np.cumsum(counts, out=ptr[1:])
            pos = np.repeat(v[:-1][idx] - ptr[:-1], counts) + np.arange(int(ptr[-1]))
            kw[f.name] = ptr
            for name in _CSR[f.name]:
                kw[name] = getattr(table, name)[pos]
        elif isinstance(v, np.ndarray) and v.shape[:1] == (n,):
            kw[f.name] = v[idx]
        else:  # pragma: no cover - a new column of another shape must be taught here
            raise TypeError(f"restrict: column {type(table).__name__}.{f.name} is neither per row nor CSR")
    return type(table)(**kw)


def _new_index(keep: np.ndarray, n: int) -> np.ndarray:
    """Old index -> new index (``-1``: dropped)."""
    new = np.full(n, -1, np.int64)
    new[keep] = np.arange(keep.size)
    return new


def _pairs(pairs: Pairs, ne: np.ndarray, nm: np.ndarray) -> Pairs:
    e, m = ne[pairs.employee], nm[pairs.mission]
    ok = (e >= 0) & (m >= 0)
    return Pairs(e[ok].astype(np.int32), m[ok].astype(np.int32), pairs.score[ok])


def restrict(problem: Problem, employees: np.ndarray, missions: np.ndarray) -> Problem:
    """The problem with only ``employees`` and ``missions`` (ascending dense indices).

    Employers and associations are kept whole; pair lists keep the pairs whose two ends are
    kept; a :class:`Taken` keeps its kept missions' entries.

    Examples
    --------
    >>> import numpy as np, koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=0)
    >>> q = restrict(p, np.array([2, 5]), np.arange(p.n_missions))
    >>> q.employees.ids.tolist() == p.employees.ids[[2, 5]].tolist(), q.n_missions == p.n_missions
    (True, True)
    """
    employees = np.asarray(employees, np.int64)
    missions = np.asarray(missions, np.int64)
    ne, nm = _new_index(employees, problem.n_employees), _new_index(missions, problem.n_missions)
    taken = problem.taken
    if taken is not None:
        keep = nm[taken.mc_mission] >= 0
        taken = Taken(nm[taken.mc_mission[keep]].astype(np.int32), taken.mc_employer[keep], taken.mc_count[keep],
                      taken.cd_employer, taken.cd_date, taken.cd_count, taken.staffed[missions])
    return dataclasses.replace(
        problem, employees=_rows(problem.employees, employees), missions=_rows(problem.missions, missions),
        forced=_pairs(problem.forced, ne, nm), forbidden=_pairs(problem.forbidden, ne, nm),
        affinities=_pairs(problem.affinities, ne, nm), taken=taken)
