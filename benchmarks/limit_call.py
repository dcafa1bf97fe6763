"""One ``km.solve`` under a time limit, timed around the call: ``python -m benchmarks.limit_call FILE METHOD T``.

The problem is loaded first (``km.load``) and the solvers imported by a solve of a tiny instance,
so that the time printed is the call's alone: what ``time_limit`` promises (docs/solvers.md,
"Time limits").  Prints one line: seconds, candidate arcs (and their cap), the graph's seconds,
the hours placed, ``km.check``'s violations and the load average at the start; and records the run,
with the machine, in ``benchmarks/results/limit_call.json`` (``--out`` elsewhere), in place of an
earlier run of the same file name, method and limit.
"""

from __future__ import annotations

import argparse
import os
import time

import koeeo_match as km

from . import machine
from .common import record_run, repo_root

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "limit_call.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.limit_call", description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a problem file (km.load)")
    ap.add_argument("method")
    ap.add_argument("limit", type=float, help="time_limit, seconds")
    ap.add_argument("--out", default=OUT, help="the results file the run is recorded in")
    a = ap.parse_args(argv)
    path, method, limit, out = a.file, a.method, a.limit, a.out
    p = km.load(path)
    km.solve(km.synth.city(employees=30, seed=0), method=method)  # imports the solvers
    load = os.getloadavg()[0]
    t = time.perf_counter()
    s = km.solve(p, method=method, time_limit=limit)
    seconds = time.perf_counter() - t
    m = s.metrics
    violations = len(km.check(p, s))
    print(f"{os.path.basename(path)} {method} T={limit:g}: {seconds:.2f} s, {m['candidate_arcs']:,} arcs "
          f"(top_k={m['top_k']}), graph {m['candidate_seconds']:.2f} s, {s.objective:,} h, "
          f"violations {violations}, load {load:.1f}")
    record_run(out, {"file": os.path.basename(path), "method": method, "time_limit": limit,
                     "seconds": seconds, "candidate_arcs": m["candidate_arcs"], "top_k": m["top_k"],
                     "candidate_seconds": m["candidate_seconds"], "objective": s.objective, "status": s.status.value,
                     "termination": s.termination.value, "violations": violations, "load_average": load,
                     "command": f"python -m benchmarks.limit_call {os.path.basename(path)} {method} {limit:g}",
                     "machine": machine.describe(repo_root())}, ("file", "method", "time_limit"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
