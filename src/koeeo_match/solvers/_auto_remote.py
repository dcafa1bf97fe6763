"""``auto``'s parts as they travel to an executor: each with only its own rows and arcs.

On the local pool a part's task shares the whole problem and graph with every
other (the workers are forked with them in memory).  On the caller's executor
(:mod:`koeeo_match.parallel`) each part is packed into a :class:`PartJob`:

- the problem restricted to the part's employees and missions
  (:func:`koeeo_match.model.restrict`: the pairs among them and the caps pinned
  assignments take, renumbered in the same order); employers and associations
  are kept whole (small tables, referenced by index);
- the part's arcs as a graph over those rows (:func:`local_graph`), in the same
  order, with the objective terms its policy weighs: part-local arc ``i`` is the
  same arc in both, so the part's answer maps back unchanged;
- the deadline as a wall-clock time (``time.time()``, shared by the machines of
  a cluster through NTP), turned back into this machine's monotonic clock where
  the job runs.

Renumbering keeps every order (employees, missions, arcs), so the part's
search sees the same model and gives the same answer as on the local pool.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._arrays import csr_ptr
from ..candidates import CandidateGraph
from ..decompose import Part
from ..model import restrict
from ..parallel import Remote
from ._auto_parts import Context, relax_part, solve_part

__all__ = ["PartJob", "local_graph", "RELAX", "SOLVE"]


def local_graph(graph: CandidateGraph, part: Part) -> CandidateGraph:
    """The arcs of ``part`` as a graph over its own employees and missions (numbered as by
    :func:`koeeo_match.model.restrict`), in the same order, with the terms its policy weighs.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0, rules="flow")
    >>> g = km.build_candidates(p, "max_hours")
    >>> part = Part.of(np.arange(5), g.employee, g.mission, g.n_employees, g.n_missions)
    >>> loc = local_graph(g, part)
    >>> (loc.n_employees, len(loc)) == (part.employees.size, 5), bool((loc.score == g.score[:5]).all())
    (True, True)
    """
    arcs = part.arcs
    e = np.searchsorted(part.employees, graph.employee[arcs]).astype(np.int32)
    m = np.searchsorted(part.missions, graph.mission[arcs]).astype(np.int32)
    weighed = [t for t, w in graph.policy.weights().items() if w]
    return CandidateGraph(n_employees=int(part.employees.size), n_missions=int(part.missions.size), employee=e,
                          mission=m, ptr=csr_ptr(e, int(part.employees.size)), km=graph.km[arcs],
                          terms={t: np.asarray(graph.terms[t])[arcs] for t in weighed}, score=graph.score[arcs],
                          scale=graph.scale, policy=graph.policy, k=graph.k, rank=graph.rank, is_part=True)


@dataclass(frozen=True, eq=False)
class PartJob:
    """One part of an ``auto`` solve, self-contained: what :func:`relax_part` and
    :func:`solve_part` need, and nothing of the other parts."""

    context: Context  # over the part's sub-problem and local graph
    wall_deadline: float | None  # time.time() by which the search ends
    wall_start: float | None = None  # time.time() when the solve started (the LPs' share counts from it)

    @classmethod
    def of(cls, ctx: Context, part: Part) -> PartJob:
        """The job of ``part`` of ``ctx`` (built where the solve runs)."""
        sub = restrict(ctx.problem, part.employees, part.missions)
        graph = local_graph(ctx.graph, part)
        wall = None if ctx.deadline is None else time.time() + (ctx.deadline - time.monotonic())
        began = None if ctx.start is None else time.time() + (ctx.start - time.monotonic())
        options = replace(ctx.options, progress=None, executor=None)
        return cls(Context(sub, graph, options, None, ctx.limits, whole_arcs=ctx.n_arcs), wall, began)

    def unpacked(self) -> tuple[Context, Part]:
        """The context, its deadline on this machine's monotonic clock, and the part (every arc)."""
        deadline = None if self.wall_deadline is None else time.monotonic() + (self.wall_deadline - time.time())
        start = None if self.wall_start is None else time.monotonic() + (self.wall_start - time.time())
        ctx = replace(self.context, deadline=deadline, start=start)
        g = ctx.graph
        part = Part(np.arange(len(g), dtype=np.int64), np.arange(g.n_employees, dtype=np.int64),
                    np.arange(g.n_missions, dtype=np.int64))
        return ctx, part


def _relax_job(job: PartJob) -> tuple[int | None, np.ndarray | None]:
    return relax_part(*job.unpacked())


def _solve_job(job: PartJob, *rest: Any) -> tuple:
    return solve_part(*job.unpacked(), *rest)


#: :func:`relax_part`'s and :func:`solve_part`'s tasks as jobs for an executor.
RELAX = Remote(_relax_job, lambda ctx, part: (PartJob.of(ctx, part),), "auto part")
SOLVE = Remote(_solve_job, lambda ctx, part, *rest: (PartJob.of(ctx, part), *rest), "auto part")
