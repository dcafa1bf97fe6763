"""A year's priced batches start from the arcs the last one held, not from a start graph.

On the priced route (:mod:`koeeo_match.solvers.priced`) a snapshot starts from a start graph:
each employee's and each mission's few best arcs among its nearest partners.  A batch of
:func:`koeeo_match.simulate` is different: hundreds of thousands of employees wait for the few
missions open near them, most of whom no batch will place, and drawing their best arcs costs a
pass over every waiting employee.  A batch starts instead from the arcs the last priced batch held
whose employee and mission are still open (each checked eligible again in the new open problem;
often few: an optimum leaves no arc between an employee and a mission that both have room), and its
first scan, at prices 0, adds each node's best arcs among those that price out.  The start changes
how fast the certificate comes, never what it proves: every batch is still the exact optimum of its
open problem, certified by a complete scan.  Between optima of equal value, the one reached may
differ from a cold start's.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .batching import OpenProblem
from .engine import START_K, check_memory, priced_route, priced_run, solve
from .policy import Policy
from .solution import Solution
from .solvers import SolveOptions

__all__ = ["WarmStart"]


class WarmStart:
    """The arcs the last priced batch held (as indices into the whole problem), and the solve of
    a batch that starts from them.

    Examples
    --------
    >>> import koeeo_match as km
    >>> from koeeo_match.batching import open_problem
    >>> p = km.synth.city(employees=40, seed=0, rules="flow")
    >>> none = np.zeros(0, np.int64)
    >>> op = open_problem(p, 0, none, none)
    >>> s = WarmStart(p.n_employees, p.n_missions).solve(op, "auto", km.Policy.preset("max_hours"), 0, None, None)
    >>> s.objective == km.solve(op.problem).objective
    True
    """

    def __init__(self, n_employees: int, n_missions: int) -> None:
        self.n_employees, self.n_missions = n_employees, n_missions  # the whole problem's
        self.employee: np.ndarray | None = None
        self.mission: np.ndarray | None = None

    def start(self, op: OpenProblem) -> tuple[np.ndarray, np.ndarray]:
        """The arcs held last whose employee and mission ``op`` still has, as its indices."""
        if self.employee is None or self.mission is None or not self.employee.size:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos_e = np.full(self.n_employees, -1, np.int64)
        pos_e[op.employees] = np.arange(op.employees.size)
        pos_m = np.full(self.n_missions, -1, np.int64)
        pos_m[op.missions] = np.arange(op.missions.size)
        e, m = pos_e[self.employee], pos_m[self.mission]
        both = (e >= 0) & (m >= 0)
        return e[both], m[both]

    def solve(self, op: OpenProblem, method: str, policy: Policy, seed: int, time_limit: float | None,
              executor: Any) -> Solution:
        """``km.solve(op.problem, method, policy, time_limit, seed, executor=executor)``, on the priced
        route from the arcs the last priced batch held (kept for the next)."""
        p = op.problem
        if method not in ("auto", "flow") or not priced_route(p, method, None):
            return solve(p, method=method, policy=policy, time_limit=time_limit, seed=seed, executor=executor)
        t_entry = time.monotonic()
        check_memory(p, method, START_K, None)  # the start graph of a cold start: what solve checks
        start = self.start(op)
        left = None if time_limit is None else max(time_limit - (time.monotonic() - t_entry), 1e-3)
        options = SolveOptions(time_limit=left, seed=int(seed), executor=executor)
        sol, graph = priced_run(p, policy, method, options, start, candidate_seconds=time.monotonic() - t_entry)
        self.employee = op.employees[np.asarray(graph.employee, np.int64)]
        self.mission = op.missions[np.asarray(graph.mission, np.int64)]
        return sol
