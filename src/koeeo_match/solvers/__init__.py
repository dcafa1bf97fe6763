"""Solvers, one file each, behind a small registry (``REGISTRY[name]``).

Each solver takes ``(problem, graph, options)`` and returns a
:class:`~koeeo_match.solvers._base.RawResult` of selected arcs; the public
:func:`koeeo_match.solve` turns it into a :class:`~koeeo_match.Solution`.
"""

from ._base import REGISTRY, RawResult, SolveOptions
from . import auto, cpsat, fcfs, flow, greedy, stable  # noqa: F401  (registration)

__all__ = ["REGISTRY", "RawResult", "SolveOptions"]
