"""First come, first served: today's volunteering platforms, simulated.

Employees arrive in a random order (seeded); each in turn signs up for the
best missions still open to them (by the policy's score) until their hours
are used.  A team mission that has not reached its minimum at the end is
cancelled and its volunteers go unplaced, as on a real platform.  Every rule
is honoured.
"""

from __future__ import annotations

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ._base import RawResult, SolveOptions, register
from ._ledger import Ledger
from ._structure import structure
from .greedy import finish, settle_forced

__all__ = ["solve_fcfs"]


@register("fcfs", supports="all")
def solve_fcfs(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """Simulate first-come-first-served sign-ups (arrival order from ``options.seed``)."""
    st = structure(problem, graph)
    ledger = Ledger(problem, graph, st)
    bad = settle_forced(ledger, problem, st.forced_arc)
    if bad is not None:
        return bad
    forced_m = set(graph.mission[st.forced_arc].tolist())
    rng = np.random.default_rng(options.seed)
    arrival = rng.permutation(graph.n_employees)
    # each employee's arcs, best first
    by_emp = np.lexsort((-graph.score, graph.employee))
    by_emp = by_emp[graph.score[by_emp] > 0]
    ptr = np.zeros(graph.n_employees + 1, np.int64)
    np.cumsum(np.bincount(graph.employee[by_emp], minlength=graph.n_employees), out=ptr[1:])
    arcs, ptr_l, left = by_emp.tolist(), ptr.tolist(), ledger.emp_left
    h = ledger.h
    for e in arrival.tolist():
        for i in range(ptr_l[e], ptr_l[e + 1]):
            if left[e] <= 0:
                break
            a = arcs[i]
            if h[a] <= left[e]:
                ledger.try_take(a)
    short = set(ledger.short_teams()) - forced_m
    if short:
        for a in ledger.selected().tolist():
            if ledger.ma[a] in short:
                ledger.release(a)
    return finish(ledger, forced_m, "fcfs")
