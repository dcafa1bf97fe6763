"""The headline, on the whole problem: ``python -m benchmarks.headline [--scale S]``.

``km.synth.france(seed=0, scale=S, rules="flow")`` solved three ways, each in a process of its own
with its peak RSS: ``km.solve`` with its defaults (exact on the whole problem: pricing over the
implicit graph when the full graph is large), and first-come-first-served (``fcfs``) and
``greedy`` given **every eligible arc** (``top_k=None``: the full graph built whole, or, for
``fcfs`` where it does not fit, the same sign-ups drawn block by block without it:
``koeeo_match.streamed``).  So the optimiser's advantage over today's platforms is measured with
neither side capped.  Each result is checked by ``km.check``; rows go to
``benchmarks/results/headline.json`` with the machine.

``--methods fcfs`` runs only some of them (the national instance: ``greedy`` on every arc does not
fit, and the exact optimum takes most of an hour); the optimiser's advantage is then taken against
the exact optimum of the same instance recorded in ``benchmarks/results/priced.json`` (named in
the row's ``optimum_from``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import koeeo_match as km

from . import machine
from .common import record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "headline.json")


def _one(scale: float, method: str) -> dict:
    from koeeo_match.memory import PeakSampler, rss_bytes

    p = km.synth.france(seed=0, rules="flow", scale=scale)
    t = time.perf_counter()
    with PeakSampler() as ps:
        s = km.solve(p, method=method)
    seconds = time.perf_counter() - t
    return {"method": method, "solved_as": s.method, "objective": s.objective, "bound": s.bound,
            "status": s.status.value, "arcs": s.metrics.get("candidate_arcs"), "top_k": s.metrics.get("top_k"),
            "seconds_after_generation": seconds, "peak_rss_bytes": max(ps.peak, rss_bytes()),
            "violations": len(km.check(p, s)), "employees": p.n_employees,
            "fcfs_streamed": s.metrics.get("fcfs_streamed"), "termination": s.termination.value}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--methods", default="auto,fcfs,greedy", help="comma-separated, among auto, fcfs, greedy")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    rows = []
    for method in a.methods.split(","):
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            rows.append(ex.submit(_one, a.scale, method).result())
        r = rows[-1]
        arcs = r["arcs"] if r["arcs"] is not None else (r["fcfs_streamed"] or {}).get("arcs_drawn", 0)
        print(f"{method} ({r['solved_as']}): {r['status']} {r['objective']:,.1f} h on {arcs:,} arcs, "
              f"{r['seconds_after_generation']:.0f} s, {r['peak_rss_bytes'] / 2**30:.2f} GiB, "
              f"{r['violations']} violation(s)", flush=True)
    exact = [r for r in rows if r["method"] == "auto"]
    best, source = (exact[0]["objective"], "auto, this run") if exact else _recorded_optimum(a.scale)
    for r in rows:
        r["optimiser_advantage"] = best / r["objective"] - 1 if r["objective"] and best is not None else None
    run = {"scale": a.scale, "rows": rows, "optimum": best, "optimum_from": source,
           "load_average": os.getloadavg()[0], "machine": machine.describe(),
           "command": "python -m benchmarks.headline " + shlex.join(argv if argv is not None else sys.argv[1:])}
    record_run(a.out, run, ("scale",))
    return 0


def _recorded_optimum(scale: float) -> tuple[float | None, str | None]:
    """The certified optimum of ``km.synth.france(seed=0, scale=scale, rules="flow")`` recorded by
    ``benchmarks.priced`` (its latest row of that instance), and where it was read."""
    import json

    label = "national" if scale == 1 else f"national x {scale:g}"
    path = os.path.join(HERE, "results", "priced.json")
    with open(path, encoding="utf-8") as fh:
        runs = [r for r in json.load(fh)["runs"] if r.get("instance") == label and r.get("status") == "optimal"]
    if not runs:
        return None, None
    return runs[-1]["objective"], f"benchmarks/results/priced.json, instance {label!r} ({runs[-1]['command']})"


if __name__ == "__main__":
    raise SystemExit(main())
