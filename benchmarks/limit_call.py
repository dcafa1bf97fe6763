"""One ``km.solve`` under a time limit, timed around the call: ``python -m benchmarks.limit_call FILE METHOD T``.

The problem is loaded first (``km.load``) and the solvers imported by a solve of a tiny instance,
so that the time printed is the call's alone: what ``time_limit`` promises (docs/solvers.md,
"Time limits").  Prints one line: seconds, candidate arcs (and their cap), the graph's seconds,
the hours placed, ``km.check``'s violations and the load average at the start.
"""

from __future__ import annotations

import os
import sys
import time

import koeeo_match as km


def main(argv: list[str] | None = None) -> int:
    path, method, limit = (argv if argv is not None else sys.argv[1:])[:3]
    p = km.load(path)
    km.solve(km.synth.city(employees=30, seed=0), method=method)  # imports the solvers
    load = os.getloadavg()[0]
    t = time.perf_counter()
    s = km.solve(p, method=method, time_limit=float(limit))
    seconds = time.perf_counter() - t
    m = s.metrics
    print(f"{os.path.basename(path)} {method} T={float(limit):g}: {seconds:.2f} s, {m['candidate_arcs']:,} arcs "
          f"(top_k={m['top_k']}), graph {m['candidate_seconds']:.2f} s, {s.objective:,} h, "
          f"violations {len(km.check(p, s))}, load {load:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
