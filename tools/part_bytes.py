"""Measure what a solve's parts send to an executor: bytes pickled per part, out and back.

Usage::

    PYTHONPATH=src python tools/part_bytes.py [--region Bretagne | --national] [--scale 1.0]
                                              [--rules flow|all] [--method auto] [--time-limit S]
                                              [--sweep POLICY,POLICY,...]

The solve (or sweep) runs with ``executor=`` a :class:`Recorder`: a ``concurrent.futures``
executor that pickles every job as a remote executor would (``pickle`` protocol 5, the job's
function and arguments; then its result), records the sizes, and runs the job in this
process.  The table gives, per kind of part, the number of parts, their arcs and the bytes
that each sends and gets back, next to the whole problem pickled (what a part would carry if
it held the problem) and the seconds the solve took.  Every number printed is measured.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections import defaultdict
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np

import koeeo_match as km

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks`
from benchmarks import machine  # noqa: E402
from benchmarks.common import record_run  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "part_bytes.json"


class Recorder(Executor):
    """Runs each job here, recording the bytes it would send (``sent``) and return (``back``)."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        sent = len(pickle.dumps((fn, args, kwargs), protocol=5))
        fut: Future = Future()
        t0 = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - the caller reads it from the future
            fut.set_exception(exc)
            return fut
        packed = args[1] if len(args) > 1 else ()  # parallel._job(fn, packed)
        job = packed[0] if packed else None
        kind = "sweep point" if isinstance(job, km.Problem) else type(job).__name__
        self.jobs.append({"kind": kind, "arcs": _arcs(packed), "sent": sent,
                          "back": len(pickle.dumps(result, protocol=5)), "seconds": time.perf_counter() - t0})
        fut.set_result(result)
        return fut


def _arcs(packed: tuple) -> int:
    """A job's arcs: a FlowJob's network arcs; an auto PartJob's or a sweep point's candidate arcs."""
    job = packed[0] if packed else None
    if hasattr(job, "tail"):
        return int(job.tail.size)
    if hasattr(job, "context"):
        return len(job.context.graph)
    if isinstance(job, km.Problem):  # a sweep point: (problem, graph, ...)
        return len(packed[1])
    return 0


def report(rec: Recorder, problem: km.Problem, seconds: float) -> dict[str, Any]:
    """Print the table (arcs*: a FlowJob's network arcs, a PartJob's or a sweep point's candidate arcs),
    and return it as a dict (the figures the results file keeps)."""
    whole = len(pickle.dumps(problem, protocol=5))
    print(f"problem: {problem}; pickled whole: {whole / 1e6:.2f} MB; solve: {seconds:.1f} s")
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for j in rec.jobs:
        by[j["kind"]].append(j)
    print(f"{'part kind':<12} {'parts':>6} {'arcs* (median, max)':>20} {'sent/part median':>17} {'max':>10} "
          f"{'total':>10} {'bytes/arc':>9} {'back total':>11} {'s/part median':>13}")
    rows = []
    for kind, jobs in by.items():
        arcs = np.array([j["arcs"] for j in jobs])
        sent = np.array([j["sent"] for j in jobs])
        back = np.array([j["back"] for j in jobs])
        secs = np.array([j["seconds"] for j in jobs])
        per_arc = sent.sum() / arcs.sum() if (arcs > 0).all() else float("nan")
        print(f"{kind:<12} {len(jobs):>6} {int(np.median(arcs)):>10,} {int(arcs.max()):>9,} "
              f"{_mb(np.median(sent)):>17} {_mb(sent.max()):>10} {_mb(sent.sum()):>10} {per_arc:>9.1f} "
              f"{_mb(back.sum()):>11} {np.median(secs):>13.3f}")
        rows.append({"kind": kind, "parts": len(jobs), "arcs_median": float(np.median(arcs)),
                     "arcs_max": int(arcs.max()), "sent_median_bytes": float(np.median(sent)),
                     "sent_max_bytes": int(sent.max()), "sent_total_bytes": int(sent.sum()),
                     "bytes_per_arc": float(per_arc), "back_total_bytes": int(back.sum()),
                     "seconds_per_part_median": float(np.median(secs))})
    return {"problem": repr(problem), "whole_pickled_bytes": whole, "seconds": seconds, "parts": rows}


def _mb(n: float) -> str:
    return f"{n / 1e6:.3f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--region", default="Bretagne")
    ap.add_argument("--national", action="store_true", help="all of France (--region is then ignored)")
    ap.add_argument("--scale", type=float, default=1.0, help="size relative to the region's share of 20 M hours")
    ap.add_argument("--rules", default="flow", choices=["flow", "all"])
    ap.add_argument("--method", default="auto")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--sweep", default=None, help="comma-separated policies: measure a sweep's points instead")
    ap.add_argument("--out", default=str(OUT), help="the results file the run is recorded in (with the machine)")
    args = ap.parse_args(argv)
    region = None if args.national else args.region
    problem = km.synth.france(region=region, scale=args.scale, rules=args.rules, seed=0)
    rec = Recorder()
    load = os.getloadavg()[0]  # at the start, as limit_call records it
    t0 = time.perf_counter()
    used: dict[str, Any] = {}
    if args.sweep:
        km.sweep(problem, args.sweep.split(","), [args.method], executor=rec, time_limit=args.time_limit)
    else:
        sol = km.solve(problem, method=args.method, executor=rec, time_limit=args.time_limit)
        print(f"method used: {sol.method}, status {sol.status.value}, arcs {sol.metrics['candidate_arcs']:,}")
        used = {"method_used": sol.method, "status": sol.status.value, "candidate_arcs": sol.metrics["candidate_arcs"]}
    run = report(rec, problem, time.perf_counter() - t0)
    command = "python tools/part_bytes.py " + " ".join(argv if argv is not None else sys.argv[1:])
    root = str(Path(__file__).resolve().parents[1])
    record_run(args.out, {"command": command, **used, **run, "machine": machine.describe(root),
                          "load_average": load}, ("command",))


if __name__ == "__main__":
    main()
