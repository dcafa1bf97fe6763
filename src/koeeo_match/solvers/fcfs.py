"""First come, first served: today's volunteering platforms, simulated.

Employees arrive in a random order (seeded), or in the order
``SolveOptions.arrival`` gives (:func:`koeeo_match.simulate` replays arrivals
by the day each employee joined); each in turn signs up for the
best missions still open to them (by the policy's score) until their hours
are used.  A team mission that has not reached its minimum at the end is
cancelled and its volunteers go unplaced, as on a real platform.  Every rule
is honoured.
"""

from __future__ import annotations

import functools

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status
from ._auto_clock import CtrlC, deadline_after, stopped
from ._base import ALL_BUT_STAFFED, RawResult, SolveOptions, register
from ._ledger import Ledger, csr_rows
from ._structure import structure
from .greedy import ended, finish, forced_missions, settle_forced

__all__ = ["solve_fcfs"]


@register("fcfs", supports=ALL_BUT_STAFFED)
def solve_fcfs(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """Simulate first-come-first-served sign-ups (arrival order from ``options.seed``).

    The sign-ups are one scan of the arcs of positive score, employee by
    employee in arrival order, each employee's best first (ties by arc index):
    an employee whose hours are used has no arc left that fits, as every
    mission lasts a positive time.  ``options.time_limit`` and Ctrl-C stop
    the scan between slices (the employees who came before keep their
    sign-ups; termination ``time_limit`` or ``interrupted``).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=1)
    >>> res = solve_fcfs(p, km.build_candidates(p, km.Policy.preset("max_hours")), SolveOptions(seed=0))
    >>> res.status.value
    'feasible'
    """
    deadline = deadline_after(options.time_limit)
    st = structure(problem, graph)
    ledger = Ledger(problem, graph, st)
    bad = settle_forced(ledger, st.forced_arc)
    if bad is not None:
        return bad
    forced_m = forced_missions(graph, st.forced_arc)
    if options.arrival is not None:  # an order given (km.simulate: by day joined)
        arrival = np.asarray(options.arrival, np.int64)
    else:
        arrival = np.random.default_rng(options.seed).permutation(graph.n_employees)
    by_emp = np.lexsort((-graph.score, graph.employee))  # each employee's arcs, best first
    order = by_emp[csr_rows(graph.ptr, arrival)]
    del by_emp
    order = order[graph.score[order] > 0]
    with CtrlC() as ctrl_c:  # a time limit or Ctrl-C stops the sign-ups between slices: those who came took
        ledger.take(order, functools.partial(stopped, deadline))
    del order
    short = ledger.short_teams()
    ledger.release_missions(short[~forced_m[short]])
    res = finish(ledger, forced_m, "fcfs", st.staffed)
    if ledger.stopped and res.status == Status.FEASIBLE:
        res.stats["stopped"] = True
        res.message = ("fcfs stopped before every employee arrived (time limit or Ctrl-C): the sign-ups of those "
                       "who came")
    return ended(res, ctrl_c)
