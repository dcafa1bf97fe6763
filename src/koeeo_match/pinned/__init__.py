"""Pinned assignments: ``km.solve(problem, ..., fixed=F)`` (DESIGN.md §8).

Pairs already made (confirmed participations) stay, and take their share of
every capacity.  A solve with ``fixed=`` is a chain of three steps, as a
reduction (cvxpy's habit): each records what the way back needs.

1. :func:`fixed_pairs`: the pairs, as indices, validated once by the
   independent checker (:func:`koeeo_match.check` on the pairs alone: every
   rule but the team minimum, which the solve completes, and ``forced``, which
   the solve adds); every broken rule is an :class:`~koeeo_match.InvalidProblemError`
   issue naming the pair(s), all at once.
2. :func:`reduce`: the *reduced problem*, what the pinned pairs leave, built
   with numpy: seats minus the pinned volunteers (a full mission leaves),
   entitlement hours minus the pinned hours (an employee with none left
   leaves), each employee's pinned dates cut out of its availability (one
   mission per date), employer hours budgets minus the pinned hours, the
   pinned pairs forbidden (an undated mission is not taken twice), forced pairs
   already pinned dropped, and, in :class:`~koeeo_match.model.Taken`, what no
   column can say: the places of each ``(mission, employer)`` and the
   employees of each ``(employer, date)`` already taken, and the teams started
   below their minimum, which must get ``min_seats - k`` more (their reduced
   ``min_seats``; ``0`` more is no option).  The pinned pairs are not forced
   arcs: every method, ``flow`` and the priced route included, solves the
   reduced problem as any other.  Only a started team needs a method that can
   complete it for sure (``cpsat``, ``auto``): the others are refused
   (:func:`refuse_unsupported`).
3. :func:`merge`: pinned + new, objective and bound the pinned pairs' value
   plus the reduced solve's, the reduced solve's status, and metrics computed
   on the whole problem by :func:`koeeo_match.metrics.compute`.
"""

from __future__ import annotations

from typing import Any

from ..model import Problem
from ._merge import merge, pairs_solution, pairs_value
from ._reduce import Reduced, cut_days, reduce, started_team_pairs
from ._validate import fixed_pairs, is_pairs, refuse_short_teams, refuse_unsupported

__all__ = ["Reduced", "cut_days", "fixed_pairs", "is_pairs", "merge", "pairs_solution", "pairs_value", "pin", "reduce",
           "refuse_short_teams", "refuse_unsupported", "started_team_pairs"]


def pin(problem: Problem, fixed: Any, method: str) -> Reduced:
    """The reduced problem of ``km.solve(problem, method, ..., fixed=fixed)``, every refusal made up front.

    :func:`fixed_pairs`, then :func:`reduce`, then :func:`refuse_short_teams` and
    :func:`refuse_unsupported`: the one path of ``km.solve`` and ``km.pipeline`` with ``fixed=``.

    Raises
    ------
    InvalidProblemError
        A pinned pair breaks a rule (alone or with the forced pairs), or starts a team that too few
        employees are left to complete.
    UnsupportedError
        ``method`` cannot complete a started team.
    """
    reduced = reduce(problem, *fixed_pairs(problem, fixed))
    refuse_short_teams(reduced, problem)
    refuse_unsupported(reduced, method, problem)
    return reduced
