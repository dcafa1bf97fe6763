"""Solvers, one file each, behind a small registry (``REGISTRY[name]``).

Each solver takes ``(problem, graph, options)`` and returns a
:class:`RawResult` of selected arcs and why its search stopped
(:class:`~koeeo_match.status.Termination`); it declares, as it registers,
the rules of :data:`RULES` it supports and those it screens itself
(:class:`Solver`).  :mod:`koeeo_match.engine` checks a problem's rules
against that declaration, runs the solver and builds the
:class:`~koeeo_match.Solution`.
"""

from . import auto, cpsat, fcfs, flow, greedy, stable  # noqa: F401  (registration)
from ._auto_clock import INTERRUPTED, CtrlC
from ._base import ALL_BUT_STAFFED, REGISTRY, RULES, RawResult, SolveOptions, Solver, problem_rules, register
from ._priced_rounds import GREEDY_FLOOR_ARCS

__all__ = ["ALL_BUT_STAFFED", "REGISTRY", "RULES", "RawResult", "SolveOptions", "Solver", "problem_rules", "register",
           "CtrlC", "INTERRUPTED", "GREEDY_FLOOR_ARCS"]
