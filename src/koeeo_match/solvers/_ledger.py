"""Remaining capacities for the sequential heuristics (greedy, fcfs).

Each ``try_take`` checks every rule of DESIGN.md §4 that an arc consumes, in
O(1), on plain Python lists (these heuristics are inherently sequential).
Team minimums are settled afterwards by :meth:`Ledger.short_teams`.
"""

from __future__ import annotations

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ._structure import Structure


class Ledger:
    def __init__(self, problem: Problem, graph: CandidateGraph, st: Structure):
        self.ea = graph.employee.tolist()
        self.ma = graph.mission.tolist()
        self.h = st.arc_hours.tolist()
        self.emp_left = st.emp_hours.tolist()
        self.ed = st.ed.tolist()
        self.ed_used = bytearray(st.n_ed)
        self.seats_left = problem.missions.seats.astype(np.int64).tolist()
        self.count = [0] * graph.n_missions
        self.mc = st.mc.tolist()
        self.mc_left = st.mc_cap.tolist()
        self.cd = st.cd.tolist()
        self.cd_left = st.cd_cap.tolist()
        self.be = st.budget_emp.tolist()
        self.budget_left = st.budget.tolist()
        self.min_seats = problem.missions.min_seats.tolist()
        self.taken = bytearray(len(graph))

    def try_take(self, a: int) -> bool:
        e, m, h = self.ea[a], self.ma[a], self.h[a]
        if self.taken[a] or self.seats_left[m] <= 0 or self.emp_left[e] < h:
            return False
        ed, mc, cd, be = self.ed[a], self.mc[a], self.cd[a], self.be[a]
        if ed >= 0 and self.ed_used[ed]:
            return False
        if mc >= 0 and self.mc_left[mc] <= 0:
            return False
        if cd >= 0 and self.cd_left[cd] <= 0:
            return False
        if be >= 0 and self.budget_left[be] < h:
            return False
        self.taken[a] = 1
        self.seats_left[m] -= 1
        self.count[m] += 1
        self.emp_left[e] -= h
        if ed >= 0:
            self.ed_used[ed] = 1
        if mc >= 0:
            self.mc_left[mc] -= 1
        if cd >= 0:
            self.cd_left[cd] -= 1
        if be >= 0:
            self.budget_left[be] -= h
        return True

    def release(self, a: int) -> None:
        if not self.taken[a]:
            return
        e, m, h = self.ea[a], self.ma[a], self.h[a]
        ed, mc, cd, be = self.ed[a], self.mc[a], self.cd[a], self.be[a]
        self.taken[a] = 0
        self.seats_left[m] += 1
        self.count[m] -= 1
        self.emp_left[e] += h
        if ed >= 0:
            self.ed_used[ed] = 0
        if mc >= 0:
            self.mc_left[mc] += 1
        if cd >= 0:
            self.cd_left[cd] += 1
        if be >= 0:
            self.budget_left[be] += h

    def short_teams(self) -> list[int]:
        """Missions that started but did not reach their team minimum."""
        return [m for m, c in enumerate(self.count) if 0 < c < self.min_seats[m]]

    def selected(self) -> np.ndarray:
        return np.flatnonzero(np.frombuffer(bytes(self.taken), dtype=np.uint8)).astype(np.int64)
