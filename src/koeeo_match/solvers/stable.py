"""Stable assignment by deferred acceptance (Gale–Shapley), either side proposing.

Each employee ranks its candidate missions, each mission its candidate
employees (:func:`koeeo_match.preferences.arc_ranks`: the policy's arc score
by default, ties by index, or explicit lists).  An arc whose integer score is
<= 0 is acceptable to neither side, as for every method but CP-SAT: with the
policy on both sides, the stable assignment is then the one ``greedy`` finds
on these rules.  A mission holds up to
``seats`` employees; an employee holds up to ``k_e`` missions, at most one
per date, where ``k_e`` is how many of its candidate missions fit its hours
entitlement.  ``k_e`` is a plain count only when *any* ``k_e`` of its
missions fit (one duration, or durations that never mix within the
entitlement); otherwise an employee's choice is a knapsack, which is not
substitutable, and a stable assignment may not exist — such problems are
refused, as are the other rules deferred acceptance cannot honour (team
minimums, binding employer daily caps or budgets, binding
``max_per_employer``, forced pairs).  Both sides' choices are then matroid
greedy choices (substitutable), so deferred acceptance ends in a stable
assignment (no blocking pair, :func:`koeeo_match.stability.blocking_pairs`),
the best stable one for the proposing side.

Run time: ``O(arcs)`` proposals for the mission-proposing variant and for
employees that hold one mission; an employee holding several missions
rescans its list when it loses one and had skipped a mission for a date
clash.  The proposal loop is sequential, on flat arrays of ranked arcs
(CSR by proposer) with integer pointers.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable

import numpy as np

from .._arrays import csr_ptr
from ..candidates import CandidateGraph
from ..errors import UnsupportedError
from ..model import Problem
from ..preferences import arc_ranks
from ..status import Status
from ._auto_clock import CtrlC, deadline_after, stopped
from ._base import RawResult, SolveOptions, register
from ._structure import Structure, structure
from .flow import employee_capacity, flow_obstacles
from .greedy import ended

__all__ = ["solve_stable", "stable_obstacles", "PROPOSING"]

#: Deferred acceptance asks its time limit (and Ctrl-C) every this many turns (a node taken from the stack).
_CHECK_EVERY = 4096

PROPOSING = ("employees", "associations")


def stable_obstacles(problem: Problem, graph: CandidateGraph, st: Structure | None = None) -> list[str]:
    """Rules of this problem that deferred acceptance cannot honour ([] if none).

    Those of :func:`~koeeo_match.solvers.flow.flow_obstacles`, and
    ``max_per_employer`` where it can bind.
    """
    st = st or structure(problem, graph)
    out = flow_obstacles(problem, graph, st)
    has = st.mc >= 0
    if has.any():
        cnt = np.bincount(st.mc[has], minlength=st.n_mc)
        binding = np.flatnonzero(cnt > st.mc_cap)
        if binding.size:
            arc = np.flatnonzero(st.mc == binding[0])[0]
            out.append(f"max_per_employer that binds on {binding.size} (mission, employer) pair(s), "
                       f"e.g. mission {problem.missions.ids[graph.mission[arc]]!r}")
    return out


def _ranked(owner: np.ndarray, rank: np.ndarray, arcs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``arcs`` grouped by owner, best rank first, and the CSR pointer."""
    order = arcs[np.lexsort((rank[arcs], owner[arcs]))]
    return order, csr_ptr(owner[order], n)


@register("stable", screens="all")
def solve_stable(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """A stable assignment by deferred acceptance (``options.proposing`` side proposes).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.Problem.from_records(
    ...     associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
    ...     employees=[{"id": "e1", "lat": 45.0, "lon": 5.0}, {"id": "e2", "lat": 45.0, "lon": 5.0}],
    ...     missions=[{"id": "m1", "association": "a"}, {"id": "m2", "association": "a"}])
    >>> prefs = {"employees": {"e1": ["m1", "m2"], "e2": ["m1", "m2"]},
    ...          "missions": {"m1": ["e2", "e1"], "m2": ["e1", "e2"]}}
    >>> km.solve(p, method="stable", preferences=prefs).assignments
    [('e1', 'm2'), ('e2', 'm1')]
    """
    if options.proposing not in PROPOSING:
        raise ValueError(f"The 'proposing' parameter must be one of {', '.join(PROPOSING)}. "
                         f"Got {options.proposing!r} instead.")
    st = structure(problem, graph)
    obstacles = stable_obstacles(problem, graph, st)
    if obstacles:
        raise UnsupportedError(
            "method='stable' cannot honour these rules of the problem: " + "; ".join(obstacles)
            + ". Use method='cpsat' or method='auto' (optimal, every rule), or 'greedy'."
        )
    erank, mrank, ok = arc_ranks(problem, graph, options.preferences)
    k, _ = employee_capacity(graph, st)
    E, M = graph.n_employees, graph.n_missions
    ea, ma = graph.employee, graph.mission
    arcs = np.flatnonzero(ok & (k[ea] > 0) & (st.arc_hours <= st.emp_hours[ea]))
    e_list, e_ptr = _ranked(ea, erank, arcs, E)
    m_list, m_ptr = _ranked(ma, mrank, arcs, M)
    # position of each arc in its employee's and its mission's list
    epos = np.zeros(len(graph), np.int64)
    epos[e_list] = np.arange(e_list.size) - e_ptr[ea[e_list]]
    mpos = np.zeros(len(graph), np.int64)
    mpos[m_list] = np.arange(m_list.size) - m_ptr[ma[m_list]]
    seats = problem.missions.seats.astype(np.int64)
    halt = functools.partial(stopped, deadline_after(options.time_limit))
    with CtrlC() as ctrl_c:
        if options.proposing == "employees":
            held, proposals, cut = _employees_propose(ea, ma, st.ed, st.n_ed, k, seats, e_list, e_ptr, m_list, m_ptr,
                                                      mpos, halt)
        else:
            held, proposals, cut = _missions_propose(ea, ma, st.ed, st.n_ed, k, seats, m_list, m_ptr, epos, halt)
    side = "employee" if options.proposing == "employees" else "association (mission)"
    what = (f"stable assignment ({side}-proposing deferred acceptance)" if not cut else
            f"deferred acceptance ({side}-proposing) stopped before its end (time limit or Ctrl-C): the proposals "
            "held then, every rule kept, NOT stable")
    return ended(RawResult(held, Status.FEASIBLE, None, f"{what}; not an optimum of the policy",
                           {"proposing": options.proposing, "proposals": proposals, "acceptable_arcs": int(arcs.size),
                            "stopped": cut}), ctrl_c)


def _employees_propose(ea: np.ndarray, ma: np.ndarray, ed: np.ndarray, n_ed: int, k: np.ndarray, seats: np.ndarray,
                       e_list: np.ndarray, e_ptr: np.ndarray, m_list: np.ndarray, m_ptr: np.ndarray,
                       mpos: np.ndarray, halt: Callable[[], bool]) -> tuple[np.ndarray, int, bool]:
    """Employee-proposing deferred acceptance; (held arcs, number of proposals, stopped).  ``halt``
    is asked every ``_CHECK_EVERY`` employees taken from the stack: the arcs held are feasible at
    any of those moments."""
    ea_l, ma_l, ed_l, mpos_l = ea.tolist(), ma.tolist(), ed.tolist(), mpos.tolist()
    e_list_l, m_list_l, m_ptr_l = e_list.tolist(), m_list.tolist(), m_ptr.tolist()
    start = e_ptr[:-1].tolist()
    end = e_ptr[1:].tolist()
    nxt = list(start)
    cap = k.tolist()
    cnt = [0] * len(cap)
    skipped = bytearray(len(cap))  # skipped an arc for a date clash (rescan when it loses one)
    seats_l = seats.tolist()
    mcount = [0] * len(seats_l)
    heaps: list[list[int]] = [[] for _ in seats_l]  # per mission: -position of held employees
    held = bytearray(len(ea_l))
    rejected = bytearray(len(ea_l))
    ed_used = bytearray(n_ed)
    proposals = 0
    stack = [e for e in range(len(cap) - 1, -1, -1) if start[e] < end[e]]
    turns, cut = 0, False
    while stack:
        turns += 1
        if turns % _CHECK_EVERY == 0 and halt():
            cut = True
            break
        e = stack.pop()
        i, stop, c, ke = nxt[e], end[e], cnt[e], cap[e]
        while c < ke and i < stop:
            a = e_list_l[i]
            i += 1
            if rejected[a] or held[a]:
                continue
            g = ed_l[a]
            if g >= 0 and ed_used[g]:
                skipped[e] = 1
                continue
            proposals += 1
            m, p = ma_l[a], mpos_l[a]
            h = heaps[m]
            if mcount[m] < seats_l[m]:
                heapq.heappush(h, -p)
                mcount[m] += 1
            elif p < -h[0]:
                b = m_list_l[m_ptr_l[m] - heapq.heapreplace(h, -p)]  # evict the worst held
                held[b], rejected[b] = 0, 1
                eb = ea_l[b]
                cnt[eb] -= 1
                if ed_l[b] >= 0:
                    ed_used[ed_l[b]] = 0
                if skipped[eb]:
                    nxt[eb], skipped[eb] = start[eb], 0
                stack.append(eb)
            else:
                rejected[a] = 1
                continue
            held[a] = 1
            c += 1
            if g >= 0:
                ed_used[g] = 1
        nxt[e], cnt[e] = i, c
    return np.flatnonzero(np.frombuffer(bytes(held), np.uint8)).astype(np.int64), proposals, cut


def _missions_propose(ea: np.ndarray, ma: np.ndarray, ed: np.ndarray, n_ed: int, k: np.ndarray, seats: np.ndarray,
                      m_list: np.ndarray, m_ptr: np.ndarray, epos: np.ndarray,
                      halt: Callable[[], bool]) -> tuple[np.ndarray, int, bool]:
    """Mission-proposing deferred acceptance; (held arcs, number of proposals, stopped), ``halt``
    asked as in :func:`_employees_propose`."""
    ea_l, ma_l, ed_l, epos_l = ea.tolist(), ma.tolist(), ed.tolist(), epos.tolist()
    m_list_l = m_list.tolist()
    nxt = m_ptr[:-1].tolist()
    end = m_ptr[1:].tolist()
    seats_l = seats.tolist()
    mcount = [0] * len(seats_l)
    cap = k.tolist()
    holding: list[list[int]] = [[] for _ in cap]  # per employee: held arcs
    held = bytearray(len(ea_l))
    ed_arc = [-1] * n_ed  # the held arc of each (employee, date)
    proposals = 0
    stack = [m for m in range(len(seats_l) - 1, -1, -1) if nxt[m] < end[m]]
    turns, cut = 0, False
    while stack:
        turns += 1
        if turns % _CHECK_EVERY == 0 and halt():
            cut = True
            break
        m = stack.pop()
        i, stop = nxt[m], end[m]
        while mcount[m] < seats_l[m] and i < stop:
            a = m_list_l[i]
            i += 1
            proposals += 1
            e = ea_l[a]
            hs = holding[e]
            g = ed_l[a]
            out = -1  # the arc the employee lets go
            if g >= 0 and ed_arc[g] >= 0:
                c = ed_arc[g]
                if epos_l[a] > epos_l[c]:
                    continue  # rejected
                out = c
            elif len(hs) >= cap[e]:
                w = max(hs, key=epos_l.__getitem__)
                if epos_l[a] > epos_l[w]:
                    continue
                out = w
            if out >= 0:
                hs.remove(out)
                held[out] = 0
                if ed_l[out] >= 0:
                    ed_arc[ed_l[out]] = -1
                mo = ma_l[out]
                mcount[mo] -= 1
                if mo != m:
                    stack.append(mo)
            hs.append(a)
            held[a] = 1
            if g >= 0:
                ed_arc[g] = a
            mcount[m] += 1
        nxt[m] = i
    return np.flatnonzero(np.frombuffer(bytes(held), np.uint8)).astype(np.int64), proposals, cut
