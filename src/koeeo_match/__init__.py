"""koeeo_match: allocate skills-based volunteering missions with OR-Tools.

>>> import koeeo_match as km
>>> problem = km.synth.city(employees=50, seed=0)
>>> solution = km.solve(problem, method="auto", policy="max_hours", seed=0)
>>> km.check(problem, solution)
[]
"""

from . import metrics, pipeline, plot, synth, whatif
from .candidates import CandidateGraph, build_candidates, estimate_arcs
from .check import Violation, check
from .engine import METHODS, solve
from .errors import (
    InsufficientMemoryError,
    InvalidParameterError,
    InvalidProblemError,
    Issue,
    KoeeoMatchError,
    SolverError,
    UnsupportedError,
)
from .explain import breakdown, diff, explain, shortfall
from .io import dump, load
from .model import Problem
from .policy import TERMS, Policy
from .solution import Solution
from .stability import blocking_pairs
from .status import Status, Termination
from .sweep import pareto_front, policy_grid, sweep

__version__ = "0.1.0"

__all__ = [
    "Problem",
    "Policy",
    "Solution",
    "Status",
    "Termination",
    "Violation",
    "CandidateGraph",
    "InsufficientMemoryError",
    "InvalidParameterError",
    "InvalidProblemError",
    "Issue",
    "KoeeoMatchError",
    "SolverError",
    "UnsupportedError",
    "METHODS",
    "TERMS",
    "build_candidates",
    "estimate_arcs",
    "blocking_pairs",
    "breakdown",
    "diff",
    "explain",
    "shortfall",
    "pipeline",
    "metrics",
    "check",
    "dump",
    "load",
    "solve",
    "synth",
    "sweep",
    "pareto_front",
    "policy_grid",
    "whatif",
    "plot",
]
