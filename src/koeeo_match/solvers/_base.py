"""What every solver returns, the rules it declares, and the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from ..candidates import CandidateGraph
from ..model import Problem
from ..status import Status, Termination

__all__ = ["ALL_BUT_STAFFED", "RawResult", "SolveOptions", "SolverFn", "Solver", "REGISTRY", "RULES", "register",
           "problem_rules"]

#: The rules a method may or may not honour (every method honours eligibility and the hours
#: entitlement of employees whose missions last the same): name -> what the problem has.
RULES: dict[str, str] = {
    "forced": "forced pairs",
    "team_minimum": "team minimums (min_seats > 1)",
    "daily_cap": "employer daily caps",
    "hours_budget": "employer hours budgets",
    "max_per_employer": "max_per_employer caps",
    "mixed_durations": "missions of different durations (hours entitlements become knapsacks)",
    "staffed": "teams started below their minimum by pinned assignments (they must reach it)",
}

#: Every rule but ``staffed``: what a heuristic that may leave a team short honours (it releases
#: such a team, which a started team does not allow).
ALL_BUT_STAFFED: frozenset[str] = frozenset(RULES) - {"staffed"}


@dataclass
class RawResult:
    """A solver's answer on the candidate graph.

    ``selected`` holds arc indices; ``bound`` is an upper bound on the sum of
    integer arc scores (``None`` when the method gives none).  ``termination``
    says why the search stopped; when not given, what the status implies
    (:meth:`~koeeo_match.status.Termination.implied_by`: ``optimal``,
    ``infeasible``, else ``completed``).
    """

    selected: np.ndarray
    status: Status
    bound: float | None = None
    message: str = ""
    stats: dict = field(default_factory=dict)
    termination: Termination | None = None

    def __post_init__(self) -> None:
        if self.termination is None:
            self.termination = Termination.implied_by(self.status)


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None
    seed: int = 0
    workers: int = 0  # 0: solver default
    progress: Callable[[str], None] | None = None
    hint: np.ndarray | None = None  # arc indices of a feasible solution (warm start)
    proposing: str = "employees"  # stable: the side that proposes ("employees" or "associations")
    preferences: Mapping[str, Any] | None = None  # stable: explicit rankings (preferences.arc_ranks)
    arrival: np.ndarray | None = None  # fcfs: employees in arrival order (default: a permutation drawn from seed)
    executor: Any = None  # where independent parts run (parallel.run_parts); None: local processes
    memory_bytes: float | None = None  # cpsat: bytes its search may take (None: not checked; km.solve's memory_limit)


class SolverFn(Protocol):
    def __call__(self, problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult: ...


#: A solver function, possibly with further (keyword) parameters of its own (``solve_cpsat``'s
#: ``lns_only``): :func:`register` gives it back with its own signature.
F = TypeVar("F", bound=SolverFn)


@dataclass(frozen=True)
class Solver:
    """A registered method: its function and the rules (keys of :data:`RULES`) it declares.

    ``supports``: the rules it honours whenever the problem has them.  ``screens``: rules it
    honours only where they do not bind, and examines itself, refusing with the details
    (e.g. ``flow`` and :func:`~koeeo_match.solvers.flow.flow_obstacles`).  A rule in neither
    is refused before the solver runs (:func:`koeeo_match.engine.dispatch`).
    """

    name: str
    fn: SolverFn
    supports: frozenset[str]
    screens: frozenset[str] = frozenset()

    def __call__(self, problem: Problem, graph: CandidateGraph, options: SolveOptions) -> RawResult:
        return self.fn(problem, graph, options)

    def refuses(self, rules: Iterable[str]) -> list[str]:
        """The rules among ``rules`` this method neither supports nor screens."""
        return [r for r in rules if r not in self.supports and r not in self.screens]


REGISTRY: dict[str, Solver] = {}


def _rules(names: str | Iterable[str], what: str) -> frozenset[str]:
    out = frozenset(RULES) if names == "all" else frozenset([names] if isinstance(names, str) else names)
    unknown = sorted(out - set(RULES))
    if unknown:
        raise ValueError(f"register: unknown rule(s) {unknown} in {what!r}; rules are {', '.join(RULES)}.")
    return out


def register(name: str, supports: str | Iterable[str] = (), screens: Iterable[str] = ()
             ) -> Callable[[F], F]:
    """Register a solver function under ``name``, with the rules it supports (``"all"``: every
    rule of :data:`RULES`) and those it screens itself (see :class:`Solver`)."""

    honoured, screened = _rules(supports, "supports"), _rules(screens, "screens")

    def deco(fn: F) -> F:
        REGISTRY[name] = Solver(name, fn, honoured, screened)
        return fn

    return deco


def problem_rules(problem: Problem) -> list[str]:
    """The rules of :data:`RULES` that ``problem`` has (vectorised; one pass over its tables).

    >>> import koeeo_match as km
    >>> problem_rules(km.synth.city(employees=40, seed=3, rules="flow"))
    []
    """
    m, er = problem.missions, problem.employers
    has = {
        "forced": len(problem.forced) > 0,
        "team_minimum": bool((m.min_seats > 1).any()),
        "daily_cap": bool((er.daily_cap >= 0).any()),
        "hours_budget": bool(np.isfinite(er.hours_budget).any()),
        "max_per_employer": bool((m.max_per_employer >= 0).any()),
        "mixed_durations": bool(len(m.hours) and (m.hours != m.hours[0]).any()),
        "staffed": problem.taken is not None and bool(problem.taken.staffed.any()),
    }
    return [r for r in RULES if has[r]]
