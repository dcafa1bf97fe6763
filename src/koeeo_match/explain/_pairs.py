"""A solution's assignments as index arrays into its problem (shared by the explanations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._arrays import index_of
from ..model import Problem

if TYPE_CHECKING:
    from ..solution import Solution


def assigned_pairs(problem: Problem, solution: Solution) -> tuple[np.ndarray, np.ndarray]:
    """(employee index, mission index) of each assignment, from the solution's indices or,
    for a solution loaded from a file (ids only), by looking its ids up (KeyError on an unknown id)."""
    if solution.employee is not None and solution.mission is not None:
        return np.asarray(solution.employee, np.int64), np.asarray(solution.mission, np.int64)
    eids, mids = np.asarray(solution.employee_ids), np.asarray(solution.mission_ids)
    # fixed-width strings sort without a Python comparison per step
    e = index_of(np.asarray(problem.employees.ids).astype(str), eids.astype(str))
    m = index_of(np.asarray(problem.missions.ids).astype(str), mids.astype(str))
    for ids, at in ((eids, e), (mids, m)):
        if (at < 0).any():
            raise KeyError(ids[at < 0][:1].tolist()[0])
    return e, m
