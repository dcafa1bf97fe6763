"""Greedy baseline: take arcs in decreasing score order while every rule allows.

Team missions that end below their minimum are cancelled (their volunteers
released) and the released volunteers' arcs are tried again, until no team is
short (at most 100 rounds; teams still short then are cancelled), so the
result honours every rule.  Forced pairs are taken first.
"""

from __future__ import annotations

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status
from ._base import RawResult, SolveOptions, register
from ._ledger import Ledger
from ._structure import structure

__all__ = ["solve_greedy", "greedy_from", "settle_forced"]

_MAX_ROUNDS = 100


def settle_forced(ledger: Ledger, problem: Problem, forced_arc: np.ndarray) -> RawResult | None:
    """Take the forced arcs first; a RawResult when they cannot all be taken."""
    if (forced_arc < 0).any():
        return RawResult(np.zeros(0, np.int64), Status.INFEASIBLE, None, "a forced pair is not eligible")
    for a in forced_arc.tolist():
        if not ledger.try_take(a):
            return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None, "the heuristic could not place every forced pair")
    return None


def finish(ledger: Ledger, forced_missions: set[int], method: str) -> RawResult:
    if forced_missions & set(ledger.short_teams()):
        return RawResult(np.zeros(0, np.int64), Status.UNKNOWN, None,
                         f"{method} could not complete a team that holds a forced pair")
    return RawResult(ledger.selected(), Status.FEASIBLE)


@register("greedy", supports="all")
def solve_greedy(problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
    """Highest score first (ties by employee, then mission order); honours every rule."""
    return greedy_from(problem, graph)


def greedy_from(problem: Problem, graph: CandidateGraph, first: np.ndarray | None = None) -> RawResult:
    """Greedy that tries the arcs ``first`` (e.g. a relaxation's solution) before the others.

    This is the repair step of ``auto`` on parts too large for CP-SAT: the flow
    relaxation's choice is kept wherever every rule allows it, then completed.
    """
    st = structure(problem, graph)
    ledger = Ledger(problem, graph, st)
    bad = settle_forced(ledger, problem, st.forced_arc)
    if bad is not None:
        return bad
    forced_m = set(graph.mission[st.forced_arc].tolist())
    pos = np.flatnonzero(graph.score > 0)
    order = pos[np.argsort(-graph.score[pos], kind="stable")]
    if first is not None and len(first):
        pref = np.zeros(len(graph), bool)
        pref[np.asarray(first, np.int64)] = True
        order = np.concatenate([order[pref[order]], order[~pref[order]]])
    order = order.tolist()
    ma, ea = ledger.ma, ledger.ea
    closed: set[int] = set()
    scan = order
    for _round in range(_MAX_ROUNDS):
        for a in scan:
            if ma[a] not in closed:
                ledger.try_take(a)
        short = set(ledger.short_teams()) - forced_m
        if not short:
            break
        closed |= short
        released = set()
        for a in ledger.selected().tolist():
            if ma[a] in short:
                ledger.release(a)
                released.add(ea[a])
        # only the released volunteers have new room: rescan their arcs (in score order)
        scan = [a for a in order if ea[a] in released and ma[a] not in closed]
    else:  # rounds exhausted: cancel what is still short
        short = set(ledger.short_teams()) - forced_m
        for a in ledger.selected().tolist():
            if ma[a] in short:
                ledger.release(a)
    return finish(ledger, forced_m, "greedy")
