"""Run independent parts on a local process pool (fork: large inputs are shared, not copied)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["run_parts", "default_workers"]


def default_workers() -> int:
    """Cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_parts(fn: Callable[..., Any], tasks: Sequence[tuple], workers: int = 0,
              sizes: Sequence[int] | None = None) -> list[Any]:
    """``[fn(*t) for t in tasks]``, in parallel when worthwhile; results in task order.

    Tasks are submitted largest first by the caller's order; ``workers=1``
    (or a single task) runs in this process, and so does a set of tasks
    dominated by one (``sizes``: over 80 % of the work in one task), where a
    pool would only copy its data to another process.  The workers are
    forked with the tasks in memory: only task indices and results cross
    process boundaries (large arrays are never pickled on the way in).
    """
    workers = workers or default_workers()
    dominated = sizes is not None and len(sizes) > 0 and max(sizes) > 0.8 * sum(sizes)
    if workers <= 1 or len(tasks) <= 1 or dominated or "fork" not in mp.get_all_start_methods():
        return [fn(*t) for t in tasks]
    global _INHERITED
    if _INHERITED is not None:  # a pool inside a pool worker: run here
        return [fn(*t) for t in tasks]
    # the workers are forked at the first submit and inherit (fn, tasks): only an index is pickled
    _INHERITED = (fn, tasks)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=mp.get_context("fork")) as ex:
            futures = [ex.submit(_run_inherited, i) for i in range(len(tasks))]
            return [f.result() for f in futures]
    finally:
        _INHERITED = None


# what the pool's workers run: set by run_parts before the fork, never pickled
_INHERITED: tuple[Callable[..., Any], Sequence[tuple]] | None = None


def _run_inherited(i: int) -> Any:
    fn, tasks = _INHERITED  # type: ignore[misc]
    return fn(*tasks[i])
