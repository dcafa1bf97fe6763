"""End to end with timings: generate -> candidates -> solve -> check -> metrics.

:func:`run` times each stage and records its peak resident memory (sampled
every 20 ms, plus the peak of any worker process), printing progress lines
as it goes.  It is what ``koeeo-match pipeline`` and the benchmark suite run.
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import metrics as _metrics
from ._params import InstanceOf, Satisfies, param_error, validate
from .check import check
from .engine import (
    candidate_graph,
    check_memory,
    dispatch,
    method_label,
    priced_route,
    priced_solution,
    relaxed_route,
    relaxed_solution,
    start_fits,
    start_pairs,
    to_solution,
)
from .memory import PeakSampler, memory_budget, rss_bytes
from .model import Problem
from .pinned import merge, pin
from .policy import Policy
from .solution import Solution
from .solve_params import check_solve_params, resolve_policies
from .solvers import SolveOptions

__all__ = ["Stage", "PipelineResult", "PeakSampler", "run", "rss_bytes"]

_LOG = logging.getLogger(__name__)


@dataclass
class Stage:
    """One timed stage: its name, wall-clock seconds and peak resident memory in bytes."""

    name: str
    seconds: float
    peak_rss_bytes: int  # peak of this process during the stage (workers: see children)
    children_peak_rss_bytes: int = 0  # largest worker process so far (process pool)


@dataclass
class PipelineResult:
    """What :func:`run` measured: the stages in order, the solution and its violation count.

    ``info`` holds the sizes and the outcome: employees, missions, supply and demand hours, arcs,
    top_k, method, objective, bound, gap.
    """

    stages: list[Stage] = field(default_factory=list)
    solution: Solution | None = None
    violations: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def seconds(self, *names: str) -> float:
        """Total seconds of the named stages (of every stage when none is named)."""
        return sum(s.seconds for s in self.stages if not names or s.name in names)

    def peak_rss_bytes(self) -> int:
        """Largest resident memory of any stage, this process or a worker."""
        return max([0] + [max(s.peak_rss_bytes, s.children_peak_rss_bytes) for s in self.stages])

    def to_dict(self) -> dict[str, Any]:
        """Stages, violations, info and (with a solution) its status and metrics, as JSON-ready data."""
        d = {"stages": [asdict(s) for s in self.stages], "violations": self.violations, **self.info}
        if self.solution is not None:
            d["status"] = self.solution.status.value
            d["metrics"] = {k: dict(v) if isinstance(v, dict) else v for k, v in self.solution.metrics.items()}
        return d


def run(
    make_problem: Callable[[], Problem] | Problem,
    *,
    method: str = "auto",
    policy: Policy | str = "max_hours",
    top_k: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 0,
    progress: Callable[[str], None] | None = print,
    memory_limit: float | None = None,
    fixed: Any = None,
) -> PipelineResult:
    """Run every stage, timing each and recording its peak memory.

    The parameters are those of :func:`koeeo_match.solve`, checked the same
    way (:func:`koeeo_match.solve_params.check_solve_params`), and a request that
    would not fit in memory is refused the same way, once the problem exists
    (:func:`koeeo_match.memory.check_memory`); ``make_problem`` is a Problem
    or a function that makes one (timed as the ``generate`` stage).
    ``progress`` (``print`` by default, ``None`` for silence) receives each
    stage's progress line; the same lines are always logged at INFO on the
    ``koeeo_match.pipeline`` logger.  ``fixed`` (pinned pairs, as in
    ``km.solve``) adds a ``fixed`` stage after ``generate``: the pairs are
    checked and the reduced problem built (:mod:`koeeo_match.pinned`); the
    ``candidates`` and ``solve`` stages work on it, ``check`` and ``metrics``
    on the whole problem and the merged solution.  ``time_limit`` bounds the
    ``solve`` stage only: unlike ``km.solve``, the ``candidates`` stage draws
    its graph whole (or the priced routes' start graph), so that the stages
    are timed apart.

    Examples
    --------
    >>> import koeeo_match as km
    >>> r = km.pipeline.run(lambda: km.synth.city(employees=100, seed=0, rules="flow"),
    ...                     method="flow", progress=None)
    >>> [s.name for s in r.stages], r.violations
    (['generate', 'candidates', 'solve', 'check', 'metrics'], 0)
    """
    validate("pipeline.run", {"make_problem": [InstanceOf(Problem, "a Problem"), Satisfies(callable, "a callable")]},
             {"make_problem": make_problem})
    check_solve_params("pipeline.run", method=method, policy=policy, top_k=top_k, time_limit=time_limit, seed=seed,
                       workers=workers, progress=progress, memory_limit=memory_limit, fixed=fixed)
    pol, _ = resolve_policies(policy, None, "pipeline.run")
    out = PipelineResult()
    def say(line: str, show: Callable[[str], None] | None = progress) -> None:
        _LOG.info("%s", line)  # always logged; also given to ``progress`` (print by default)
        if show is not None:
            show(line)

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        say(f"[{name}] ...")
        t0 = time.perf_counter()
        with PeakSampler() as sampler:
            value = fn()
        dt = time.perf_counter() - t0
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        out.stages.append(Stage(name, dt, sampler.peak, child))
        say(f"[{name}] {dt:.1f} s, peak RSS {sampler.peak / 2**30:.2f} GiB")
        return value

    problem = whole = stage("generate",
                            make_problem if not isinstance(make_problem, Problem) else (lambda: make_problem))
    if not isinstance(problem, Problem):
        raise param_error("pipeline.run", "make_problem", f"must return a Problem. Got {type(problem).__name__} "
                                                          "instead.")
    say(f"  {problem!r}")
    reduced = None
    if fixed is not None:  # pinned pairs: the stages below solve what they leave (as km.solve does)
        reduced = stage("fixed", lambda: pin(whole, fixed, method))
        problem = reduced.problem
        say(f"  {reduced.fixed_employee.size:,} fixed pair(s) leave {problem!r}")
    options = SolveOptions(time_limit=time_limit, seed=int(seed), workers=workers,
                           progress=(lambda s: say("  " + s)) if progress else None,
                           memory_bytes=memory_budget(memory_limit) if method == "cpsat" else None)
    if priced_route(problem, method, top_k):  # the start graph, then pricing (as km.solve does)
        start_fits(problem, method, method, memory_limit, "priced")
        # in a list that pricing empties: the start graph is not held here while pricing runs
        start = [stage("candidates", lambda: start_pairs(problem, pol, workers=workers))]
        say(f"  start graph: {start[0][0].size:,} arcs; pricing the implicit full graph")
        sol = stage("solve", lambda: priced_solution(problem, pol, method, options, start,
                                                     candidate_seconds=out.seconds("candidates"), compute_metrics=False,
                                                     memory_limit=memory_limit))
        used, n_arcs = sol.method, int(sol.metrics["candidate_arcs"])
    elif relaxed_route(problem, method, top_k, memory_limit):  # every rule at scale (as km.solve does)
        start_fits(problem, method, "flow", memory_limit, "relaxed")
        say("  every rule at scale: pricing the flow relaxation for a bound, then every rule on its arcs")
        sol = stage("solve", lambda: relaxed_solution(problem, pol, options, memory_limit, compute_metrics=False))
        used, n_arcs = sol.method, int(sol.metrics["candidate_arcs"])
    else:
        check_memory(problem, method, top_k, memory_limit, time_limit)  # refuse before building what would not fit
        graph, _ = stage("candidates", lambda: candidate_graph(problem, pol, top_k))
        say(f"  {graph!r}")
        raw = stage("solve", lambda: dispatch(problem, graph, method, options))
        used, n_arcs = method_label(method, raw), len(graph)
        t_cand = out.seconds("candidates")
        sol = to_solution(problem, graph, raw, used, candidate_seconds=t_cand,
                          total_seconds=t_cand + out.seconds("solve"), compute_metrics=False)
    if reduced is not None:
        sol = merge(whole, reduced, sol, pol, seconds=out.seconds("fixed", "candidates", "solve"))
    problem = whole
    out.violations = len(stage("check", lambda: check(problem, sol)))
    e, m = sol.employee, sol.mission
    assert e is not None and m is not None  # to_solution keeps the indices
    met = stage("metrics", lambda: _metrics.compute(problem, e, m))
    out.solution = sol = dataclasses.replace(sol, metrics={**sol.metrics, **met})
    out.info.update(
        employees=problem.n_employees,
        missions=problem.n_missions,
        supply_hours=float(problem.employees.hours.sum()),
        demand_hours=float((problem.missions.hours * problem.missions.seats).sum()),
        arcs=n_arcs,
        top_k=top_k,
        method=used,
        objective=sol.objective,
        bound=sol.bound,
        gap=sol.gap,
    )
    say(f"  {sol!r}; check: {out.violations} violation(s)")
    return out
