"""koeeo_match: allocate skills-based volunteering missions with OR-Tools.

>>> import koeeo_match as km
>>> problem = km.synth.city(employees=50, seed=0)
>>> solution = km.solve(problem, method="auto", policy="max_hours", seed=0)
>>> km.check(problem, solution)
[]

The package imports its submodules on first use (PEP 562), so that
``import koeeo_match`` does not load numpy, OR-Tools, SciPy, pandas, pyarrow
or matplotlib until a name that needs them is used; ``km.X`` and
``from koeeo_match import X`` work as usual.  Library messages go to the
``koeeo_match`` logger (a :class:`logging.NullHandler` is attached, as
libraries do): ``logging.basicConfig(level=logging.INFO)`` shows them.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import TYPE_CHECKING, Any

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

#: public name -> the submodule that defines it (``""``: the name is the submodule itself)
_LAZY: dict[str, str] = {
    "Problem": "model",
    "Policy": "policy",
    "Solution": "solution",
    "Status": "status",
    "Termination": "status",
    "Violation": "check",
    "CandidateGraph": "candidates",
    "InsufficientMemoryError": "errors",
    "InvalidParameterError": "errors",
    "InvalidProblemError": "errors",
    "Issue": "errors",
    "KoeeoMatchError": "errors",
    "KoeeoMatchWarning": "errors",
    "SolverError": "errors",
    "UnsupportedError": "errors",
    "METHODS": "engine",
    "TERMS": "policy",
    "build_candidates": "candidates",
    "estimate_arcs": "candidates",
    "blocking_pairs": "stability",
    "breakdown": "explain",
    "diff": "explain",
    "explain": "explain",
    "shortfall": "explain",
    "pipeline": "",
    "metrics": "",
    "check": "check",
    "dump": "io",
    "load": "io",
    "solve": "engine",
    "synth": "",
    "sweep": "sweep",
    "simulate": "simulate",
    "pareto_front": "pareto",
    "policy_grid": "sweep",
    "whatif": "",
    "plot": "",
}

__all__ = [  # a literal, so that linters see the lazily imported names as exported; it lists _LAZY's keys
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
    "KoeeoMatchWarning",
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
    "simulate",
    "pareto_front",
    "policy_grid",
    "whatif",
    "plot",
]

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ imports them
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
        KoeeoMatchWarning,
        SolverError,
        UnsupportedError,
    )
    from .explain import breakdown, diff, explain, shortfall
    from .io import dump, load
    from .model import Problem
    from .pareto import pareto_front
    from .policy import TERMS, Policy
    from .simulate import simulate
    from .solution import Solution
    from .stability import blocking_pairs
    from .status import Status, Termination
    from .sweep import policy_grid, sweep


def __getattr__(name: str) -> Any:
    """Import the public ``name`` on first use (PEP 562) and cache it in the package."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = importlib.import_module(f".{where or name}", __name__)
    if where:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # the public names, the dunders and the submodules imported so far: not this file's own imports
    # (sys, logging, Any...), which tab completion would otherwise offer as part of the library
    mine = {n for n, v in globals().items() if n.startswith("__")
            or isinstance(v, types.ModuleType) and v.__name__.startswith(__name__ + ".")}
    return sorted(mine | set(__all__))


#: functions named after the submodule that defines them (``km.check`` is the function, not the module)
_SHADOWED = frozenset(n for n, where in _LAZY.items() if where == n)


class _Package(types.ModuleType):
    """The package's module type: importing ``koeeo_match.check`` (say) leaves ``km.check`` the function.

    The import system binds a submodule as an attribute of its package once it
    is loaded; for the names in ``_SHADOWED`` the function is bound instead,
    as the eager ``from .check import check`` used to do.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType) and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
