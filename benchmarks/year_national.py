"""The national year end to end: ``python -m benchmarks.year_national [--scale S] [--method M]
[--commit-days D] [--fill]``.

``km.synth.france(seed=0, scale=S, year=True)`` (``S = 1``: 2,857,143 employees, the proposal's
20 M hours arriving over the year) replayed by ``km.simulate(..., batch="weekly")`` with its
defaults (or deferred commitment / the online fill), then checked whole by ``km.check``.  Timed
from after generation (generation apart), with the process's peak RSS (sampled, children
included).  ``--hindsight`` runs instead ``km.solve`` with its defaults on the whole year (the
hindsight optimum: exact, by pricing over the implicit graph) and records its hours, status and
bound, and the weekly year's share of it when a weekly row of the same scale is in the file.
``benchmarks.year`` compares batch frequencies with hindsight on regional years.  Rows go to
``benchmarks/results/year_national.json`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import koeeo_match as km

from . import machine
from .common import record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "year_national.json")


def main(argv: list[str] | None = None) -> int:
    from koeeo_match.memory import PeakSampler, rss_bytes

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--method", default="auto")
    ap.add_argument("--commit-days", type=int, default=None)
    ap.add_argument("--fill", action="store_true")
    ap.add_argument("--hindsight", action="store_true", help="solve the whole year instead (km.solve defaults)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    p = km.synth.france(seed=0, scale=a.scale, year=True)
    generate = time.perf_counter() - t
    load0 = os.getloadavg()[0]
    if a.hindsight:
        return _hindsight(p, a, argv, generate, load0)
    t = time.perf_counter()
    with PeakSampler() as ps:
        y = km.simulate(p, batch="weekly", method=a.method, commit_days=a.commit_days, fill=a.fill,
                        progress=lambda msg: print(msg, flush=True))
    seconds = time.perf_counter() - t
    peak = max(ps.peak, rss_bytes())
    t = time.perf_counter()
    violations = len(km.check(p, y.solution))
    check_seconds = time.perf_counter() - t
    secs = [b.seconds for b in y.batches]
    statuses: dict[str, int] = {}
    for b in y.batches:
        statuses[str(b.status)] = statuses.get(str(b.status), 0) + 1
    row = {"scale": a.scale, "method": a.method, "commit_days": a.commit_days, "fill": a.fill,
           "employees": p.n_employees, "missions": p.n_missions, "generate_seconds": generate,
           "simulate_seconds": seconds, "check_seconds": check_seconds, "peak_rss_bytes": peak,
           "hours": y.solution.objective, "assignments": len(y.solution.assignments), "violations": violations,
           "records": len(y.batches), "record_seconds_max": max(secs) if secs else None,
           "record_status": statuses, "load_average_start": load0, "load_average_end": os.getloadavg()[0],
           "machine": machine.describe(),
           "command": "python -m benchmarks.year_national " + shlex.join(argv if argv is not None else sys.argv[1:])}
    record_run(a.out, row, ("scale", "method", "commit_days", "fill"))
    print(f"{p.n_employees:,} employees: {row['hours']:,.1f} h placed in {len(y.batches)} records, "
          f"{seconds:.0f} s after generation ({generate:.0f} s), peak {peak / 2**30:.2f} GiB, "
          f"{violations} violation(s) of the whole-year check ({check_seconds:.0f} s)", flush=True)
    return 0


def _hindsight(p: km.Problem, a: argparse.Namespace, argv: list[str] | None, generate: float, load0: float) -> int:
    """The hindsight optimum of the year, and the weekly year's share of it."""
    import json

    from koeeo_match.memory import PeakSampler, rss_bytes

    t = time.perf_counter()
    with PeakSampler() as ps:
        s = km.solve(p, progress=lambda msg: print(msg, flush=True))
    seconds = time.perf_counter() - t
    peak = max(ps.peak, rss_bytes())
    t = time.perf_counter()
    violations = len(km.check(p, s))
    check_seconds = time.perf_counter() - t
    weekly = None
    if os.path.exists(a.out):
        with open(a.out, encoding="utf-8") as fh:
            rows = json.load(fh).get("runs", [])
        same = [r for r in rows if r.get("scale") == a.scale and r.get("method") == "auto"
                and r.get("commit_days") is None and not r.get("fill") and not r.get("hindsight")]
        weekly = same[-1]["hours"] if same else None
    row = {"scale": a.scale, "method": "hindsight", "commit_days": None, "fill": False, "hindsight": True,
           "employees": p.n_employees, "missions": p.n_missions, "generate_seconds": generate,
           "solve_seconds": seconds, "check_seconds": check_seconds, "peak_rss_bytes": peak,
           "status": s.status.value, "hours": s.objective, "bound": s.bound, "gap": s.gap,
           "assigned_hours": s.metrics.get("assigned_hours"), "assignments": len(s.assignments),
           "violations": violations,
           "pricing": {k: v for k, v in (s.metrics.get("pricing") or {}).items() if k != "per_round"},
           "weekly_hours": weekly, "weekly_share": None if weekly is None or not s.objective else weekly / s.objective,
           "load_average_start": load0, "load_average_end": os.getloadavg()[0], "machine": machine.describe(),
           "command": "python -m benchmarks.year_national " + shlex.join(argv if argv is not None else sys.argv[1:])}
    record_run(a.out, row, ("scale", "method", "commit_days", "fill"))
    print(f"hindsight: {s.status.value}, {s.objective:,.1f} h (bound {s.bound}), {seconds:.0f} s, peak "
          f"{peak / 2**30:.2f} GiB, {violations} violation(s); weekly share {row['weekly_share']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
