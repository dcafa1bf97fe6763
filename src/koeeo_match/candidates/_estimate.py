"""The size of a candidate graph, estimated before it is built (no full-graph memory).

A fixed sample of employees, drawn by a seed of its own (never the solve's), meets every
mission through the same machinery that builds the graph (``_pairs._group_pairs``):
their eligible arcs are counted exactly, and the count is extrapolated to every employee.
An employee's arcs do not depend on which other employees are drawn, so the estimate is
unbiased; its standard error follows from the spread of the sampled employees' counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral
from typing import NamedTuple

import numpy as np

from .._params import Constraint, InstanceOf, Interval, validate
from ..model import Problem
from ._pairs import _group_pairs
from ._tables import per_problem

__all__ = ["ArcEstimate", "arc_estimate", "estimate_arcs", "full_graph_late", "capped_k"]

#: Employees drawn by default (all of them below this size: the count is then exact).
SAMPLE = 2048
#: The sample's own seed, independent of any solve's ``seed``: one problem, one estimate.
SAMPLE_SEED = 15
#: The checked parameters of :func:`arc_estimate` and :func:`estimate_arcs` (``k`` as solve's ``top_k``).
_PARAMS: dict[str, list[Constraint | None]] = {
    "problem": [InstanceOf(Problem, "a Problem")],
    "k": [Interval(Integral, 1, None, closed="left"), None],
    "sample": [Interval(Integral, 1, None, closed="left")],
}


class ArcEstimate(NamedTuple):
    """The estimated number of arcs of a candidate graph.

    Attributes
    ----------
    arcs : int
        Point estimate (exact when ``exact``).
    stderr : float
        Standard error of ``arcs`` (0 when exact).
    exact : bool
        Every employee was counted.
    """

    arcs: int
    stderr: float
    exact: bool

    def low(self, z: float = 3.0) -> int:
        """A lower confidence bound, ``arcs - z * stderr`` (at least 0)."""
        return max(0, int(self.arcs - z * self.stderr))

    def high(self, z: float = 3.0) -> int:
        """An upper confidence bound, ``arcs + z * stderr``."""
        return int(math.ceil(self.arcs + z * self.stderr))


def _sample(n: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(SAMPLE_SEED)
    return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int32)


def arc_estimate(problem: Problem, *, k: int | None = None, sample: int = SAMPLE) -> ArcEstimate:
    """Estimate the arcs of ``problem``'s candidate graph, with its standard error.

    Parameters
    ----------
    problem : Problem
    k : int, optional
        The graph capped at ``k`` arcs per employee and per mission (``top_k``): at most
        ``k * (employees + missions)`` arcs, and at most the full graph's.
    sample : int, default :data:`SAMPLE`
        Employees whose arcs are counted exactly (every employee when there are fewer).

    Returns
    -------
    ArcEstimate

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=100, seed=0)
    >>> arc_estimate(p)
    ArcEstimate(arcs=63, stderr=0.0, exact=True)
    >>> arc_estimate(p, sample=50).exact
    False
    """
    validate("arc_estimate", _PARAMS, {"problem": problem, "k": k, "sample": sample})
    k, sample = None if k is None else int(k), int(sample)  # a numpy integer would wrap around in k * nodes
    # kept with the problem: a solve asks it for its memory check and again for its route
    return per_problem(problem, f"arc_estimate:{k}:{sample}", lambda p: _arc_estimate(p, k, sample))


def _arc_estimate(problem: Problem, k: int | None, sample: int) -> ArcEstimate:
    n, n_m = problem.n_employees, problem.n_missions
    if n == 0 or n_m == 0:
        return ArcEstimate(0, 0.0, True)
    exact = n <= sample
    emps = np.arange(n, dtype=np.int32) if exact else _sample(n, sample)
    ea, _, _ = _group_pairs(problem, emps, np.arange(n_m, dtype=np.int32))
    if exact:
        est = ArcEstimate(int(ea.size), 0.0, True)
    else:
        per = np.bincount(np.searchsorted(emps, ea), minlength=emps.size).astype(np.float64)
        fpc = (n - emps.size) / (n - 1)  # finite-population correction
        est = ArcEstimate(int(round(per.mean() * n)), float(n * per.std(ddof=1) * np.sqrt(fpc / emps.size)), False)
    if k is not None and k * (n + n_m) < est.arcs:
        return ArcEstimate(k * (n + n_m), 0.0, False)
    return est


def estimate_arcs(problem: Problem, *, k: int | None = None, sample: int = SAMPLE) -> int:
    """The estimated number of arcs of ``problem``'s candidate graph, before building it.

    Counts the eligible arcs of a fixed, seeded sample of ``sample`` employees exactly
    (the graph's own machinery, restricted to them) and extrapolates to every employee;
    cheap at national scale (a KD-tree per key skill over the missions, and the sample's
    arcs), deterministic, and exact for problems of at most ``sample`` employees.  See
    :func:`arc_estimate` for its standard error.

    Parameters
    ----------
    problem : Problem
    k : int, optional
        The ``top_k`` cap: the estimate is then at most ``k * (employees + missions)``.
    sample : int, default :data:`SAMPLE`
        Employees counted exactly.

    Returns
    -------
    int

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=100, seed=0)
    >>> estimate_arcs(p) == len(km.build_candidates(p, "max_hours"))
    True
    >>> estimate_arcs(p, k=1) <= 1 * (p.n_employees + p.n_missions)
    True
    """
    validate("estimate_arcs", _PARAMS, {"problem": problem, "k": k, "sample": sample})
    return arc_estimate(problem, k=k, sample=sample).arcs


#: Seconds to draw one arc of a full candidate graph (pairs, eligibility, scores): 13,019,904 arcs
#: of ``km.synth.france(seed=0, departement="35")`` in about 13 s on the 2-core machine.
DRAW_SECONDS_PER_ARC = 1.0e-6
#: A time-limited solve draws its ``k``-capped graph instead of the full one only when the full one is
#: this many times larger: a capped graph is drawn by nearest-neighbour queries per key-skill group,
#: whose overhead makes it no quicker to draw than a full graph a few times its size.
CAP_RATIO = 10
#: Employees sampled to decide (about 0.05 s on Ille-et-Vilaine, 0.16 s on Bretagne).
DECIDE_SAMPLE = 256


def full_graph_late(problem: Problem, seconds: float, k: int) -> ArcEstimate | None:
    """Whether a solve with ``seconds`` to draw its candidate graph should draw the graph capped
    at ``k`` arcs per employee and per mission instead of the full one: the full graph's
    estimated arcs (returned; None: draw it) would take longer than ``seconds`` to draw
    (:data:`DRAW_SECONDS_PER_ARC`) and outnumber the capped graph's :data:`CAP_RATIO` times.

    A full graph cut short by the deadline holds every arc of the employees drawn first and
    none of the others; the capped graph holds the best arcs of all, a much better part of
    the problem (docs/solvers.md, "Time limits").

    >>> import koeeo_match as km
    >>> full_graph_late(km.synth.city(employees=50, seed=0), 0.01, 5) is None
    True
    """
    n, m = problem.n_employees, problem.n_missions
    capped = k * (n + m)
    if n * m <= CAP_RATIO * capped or n * m * DRAW_SECONDS_PER_ARC <= seconds:
        return None
    est = arc_estimate(problem, sample=DECIDE_SAMPLE)
    if est.arcs <= CAP_RATIO * capped or est.arcs * DRAW_SECONDS_PER_ARC <= seconds:
        return None
    return est


#: Seconds to draw a capped graph, per node (employee or mission) and per arc of its cap: 3.5-3.8 us
#: on Ille-et-Vilaine every rule at k = 5, 10 and 20 (1.36, 2.75 and 4.98 s), 0.5-1.6 us on
#: ``france(seed=0, scale=0.05)`` (2026-12-07, the 2-core machine, idle).
DRAW_SECONDS_PER_CAPPED = 4.0e-6
#: The larger caps a time-limited solve may draw instead of a full graph, largest first: the
#: ``top_k`` experiment (docs/benchmarks.md) keeps 88 % of the optimum at k = 5, 97-98 % at 20.
CAPS = (20, 10)


def capped_k(problem: Problem, seconds: float, k_min: int, fits: Callable[[int], bool] | None = None) -> int:
    """The cap of the graph a time-limited solve draws instead of a full one
    (:func:`full_graph_late`): the largest of :data:`CAPS` whose graph would be drawn within
    ``seconds`` (:data:`DRAW_SECONDS_PER_CAPPED`) and, with ``fits``, for which ``fits(k)``
    answers True (its solve fits in memory), else ``k_min``.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=50, seed=0)
    >>> capped_k(p, 10.0, 5), capped_k(p, 1e-6, 5)
    (20, 5)
    """
    nodes = problem.n_employees + problem.n_missions
    return next((k for k in CAPS if k > k_min and k * nodes * DRAW_SECONDS_PER_CAPPED <= seconds
                 and (fits is None or fits(k))), k_min)
