"""The headline, on the whole problem: ``python -m benchmarks.headline [--scale S]``.

``km.synth.france(seed=0, scale=S, rules="flow")`` solved three ways, each in a process of its own
with its peak RSS: ``km.solve`` with its defaults (exact on the whole problem: pricing over the
implicit graph when the full graph is large), and first-come-first-served (``fcfs``) and
``greedy`` given **every eligible arc** (``top_k=None``: the full graph built whole).  So the
optimiser's advantage over today's platforms is measured with neither side capped.  Each result
is checked by ``km.check``; rows go to ``benchmarks/results/headline.json`` with the machine.
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
            "violations": len(km.check(p, s)), "employees": p.n_employees}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    rows = []
    for method in ("auto", "fcfs", "greedy"):
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            rows.append(ex.submit(_one, a.scale, method).result())
        r = rows[-1]
        print(f"{method} ({r['solved_as']}): {r['status']} {r['objective']:,.1f} h on {r['arcs']:,} arcs, "
              f"{r['seconds_after_generation']:.0f} s, {r['peak_rss_bytes'] / 2**30:.2f} GiB, "
              f"{r['violations']} violation(s)", flush=True)
    best = rows[0]["objective"]
    for r in rows:
        r["optimiser_advantage"] = best / r["objective"] - 1 if r["objective"] else None
    run = {"scale": a.scale, "rows": rows, "load_average": os.getloadavg()[0], "machine": machine.describe(),
           "command": "python -m benchmarks.headline " + shlex.join(argv if argv is not None else sys.argv[1:])}
    record_run(a.out, run, ("scale",))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
