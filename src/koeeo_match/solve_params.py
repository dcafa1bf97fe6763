"""The parameters of :func:`koeeo_match.solve` (shared by ``pipeline.run``, ``sweep`` and
``simulate``): their accepted forms, the rules between them, and the policies they name."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from ._params import METHODS, Hidden, InstanceOf, Interval, Options, Requires, Satisfies, validate
from .model import Problem
from .parallel import EXECUTOR_TEXT, is_executor
from .pinned import is_pairs
from .policy import Policy, as_policy, warn_if_zero
from .solvers.stable import PROPOSING

__all__ = ["SOLVE_PARAMS", "SOLVE_RULES", "check_solve_params", "resolve_policies"]

_POLICY = [InstanceOf(Policy, "a Policy"), InstanceOf(str, "a preset name"), None]

#: The accepted forms of solve's parameters (shared by ``pipeline.run`` and ``sweep``).
SOLVE_PARAMS: dict[str, list] = {
    "problem": [InstanceOf(Problem, "a Problem")],
    "method": [Options(METHODS)],
    "policy": _POLICY,
    "time_limit": [Interval(Real, 0, None, closed="neither", noun="", unit="seconds"), None],
    "seed": [Interval(Integral, 0, 2**31 - 1)],  # CP-SAT takes a 32-bit seed: one seed, one run
    "top_k": [Interval(Integral, 1, None, closed="left"), None],
    "workers": [Interval(Integral, 0, 2**31 - 1)],  # CP-SAT takes a 32-bit count of workers
    "progress": [Satisfies(callable, "a callable"), None],
    "proposing": [Options(PROPOSING), Hidden(None)],  # None: the default, "employees"
    "preferences": [InstanceOf(Mapping, "a dict"), None],
    "rank": _POLICY,
    "memory_limit": [Interval(Real, 0, None, closed="neither", noun="", unit="GiB"), None],
    "fixed": [Satisfies(is_pairs, "a Solution, a DataFrame with columns employee and mission, or an iterable "
                                  "of (employee id, mission id) pairs"), None],
    "executor": [Satisfies(is_executor, EXECUTOR_TEXT), None],
}

#: Parameters that apply only with another.
SOLVE_RULES: dict[str, Requires] = {
    "rank": Requires("top_k", lambda k: k is not None, "applies only with top_k (it chooses the kept arcs)."),
    "proposing": Requires("method", lambda m: m == "stable", "applies to method='stable' only.", show=True),
    "preferences": Requires("method", lambda m: m == "stable", "applies to method='stable' only.", show=True),
}


def check_solve_params(fn: str, **values: Any) -> None:
    """Validate solve's parameters given to ``fn`` (:data:`SOLVE_PARAMS`, :data:`SOLVE_RULES`).

    Raises
    ------
    koeeo_match.errors.InvalidParameterError
        A ``ValueError`` and a ``TypeError``: ``The 'x' parameter of fn must be ... Got ... instead.``

    Examples
    --------
    >>> check_solve_params("solve", method="simplex")
    Traceback (most recent call last):
    ...
    koeeo_match.errors.InvalidParameterError: The 'method' parameter of solve must be one of auto, flow, cpsat,
    greedy, fcfs, stable. Got 'simplex' instead.
    """
    validate(fn, SOLVE_PARAMS, values, {k: r for k, r in SOLVE_RULES.items() if k in values})


def resolve_policies(policy: Policy | str | None, rank: Policy | str | None, fn: str) -> tuple[Policy, Policy | None]:
    """``policy`` (default ``max_hours``) and ``rank`` as Policy objects (preset names and weights parsed).

    >>> resolve_policies(None, "min_travel", "solve")[1] == Policy.preset("min_travel")
    True
    """
    pol = Policy.preset("max_hours") if policy is None else as_policy(policy, "policy", fn)
    warn_if_zero(pol)
    return pol, (None if rank is None else as_policy(rank, "rank", fn))
