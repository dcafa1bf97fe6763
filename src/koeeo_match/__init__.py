"""koeeo_match: allocate skills-based volunteering missions with OR-Tools.

>>> import koeeo_match as km
>>> problem = km.synth.city(employees=50, seed=0)
>>> solution = km.solve(problem, method="auto", policy="max_hours", seed=0)
>>> km.check(problem, solution)
[]
"""

from . import synth
from .engine import METHODS, solve
from .candidates import CandidateGraph, build_candidates
from . import metrics, pipeline
from .check import Violation, check
from .explain import breakdown, diff, explain, shortfall
from .errors import InvalidProblemError, Issue, KoeeoMatchError, SolverError, UnsupportedError
from .io import dump, load
from .stability import blocking_pairs
from .model import Problem
from .policy import TERMS, Policy
from .solution import Solution
from .status import Status, Termination
from . import plot, whatif
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
    "InvalidProblemError",
    "Issue",
    "KoeeoMatchError",
    "SolverError",
    "UnsupportedError",
    "METHODS",
    "TERMS",
    "build_candidates",
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
