"""What every solver returns, and the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status

__all__ = ["RawResult", "SolveOptions", "SolverFn", "REGISTRY", "register"]


@dataclass
class RawResult:
    """A solver's answer on the candidate graph.

    ``selected`` holds arc indices; ``bound`` is an upper bound on the sum of
    integer arc scores (``None`` when the method gives none).
    """

    selected: np.ndarray
    status: Status
    bound: float | None = None
    message: str = ""
    stats: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None
    seed: int = 0
    workers: int = 0  # 0: solver default
    progress: Callable[[str], None] | None = None
    hint: np.ndarray | None = None  # arc indices of a feasible solution (warm start)
    proposing: str = "employees"  # stable: the side that proposes ("employees" or "associations")
    preferences: Mapping[str, Any] | None = None  # stable: explicit rankings (stability.arc_ranks)


class SolverFn(Protocol):
    def __call__(self, problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult: ...


REGISTRY: dict[str, SolverFn] = {}


def register(name: str) -> Callable[[SolverFn], SolverFn]:
    def deco(fn: SolverFn) -> SolverFn:
        REGISTRY[name] = fn
        return fn

    return deco
