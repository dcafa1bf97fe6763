"""Bytes per arc of a solve: ``python -m benchmarks.memory SCALE RULES METHOD [TIME_LIMIT]``.

Solves ``km.synth.france(departement="35", scale=SCALE, seed=0, rules=RULES)`` by ``METHOD`` in
this process and prints one line of JSON: the candidate arcs and the peak memory of the solve
(graph included) per arc, ``(peak - RSS before the solve) / arcs``, the peak being the larger of
``pipeline.PeakSampler(0.005)`` and ``ru_maxrss``.  Run one measurement per process (under
``/usr/bin/time -v`` for a second reading); docs/solvers.md, "Memory: refused up front", quotes
the figures behind ``koeeo_match.engine.BYTES_PER_ARC``.  ``METHOD=graph`` builds the candidate
graph alone.  ``stable`` is measured with its rule screen off (the generated instances bind
``max_per_employer``, which it refuses): the memory of the algorithm itself.

Keep ``cpsat`` to small scales (0.03-0.1): it takes 14-43 kB per arc.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

import koeeo_match as km
import koeeo_match.solvers.stable as _stable
from koeeo_match.pipeline import PeakSampler, rss_bytes


def measure(scale: float, rules: str, method: str, time_limit: float = 60.0) -> dict:
    p = km.synth.france(departement="35", scale=scale, seed=0, rules=rules)
    gc.collect()
    before = rss_bytes()
    t0 = time.perf_counter()
    with PeakSampler(0.005) as sampler:
        if method == "graph":
            arcs, status = len(km.build_candidates(p, "max_hours")), None
        else:
            sol = km.solve(p, method=method, time_limit=time_limit, memory_limit=float("inf"))
            arcs, status = int(sol.metrics["candidate_arcs"]), sol.status.value
    peak = max(sampler.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"scale": scale, "employees": p.n_employees, "rules": rules, "method": method, "arcs": arcs,
            "bytes_per_arc": round((peak - before) / max(arcs, 1)), "peak_gib": round(peak / 2**30, 3),
            "seconds": round(time.perf_counter() - t0, 1), "status": status}


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (3, 4):
        sys.exit(__doc__.splitlines()[0])
    if args[2] == "stable":
        _stable.stable_obstacles = lambda *a: []  # the algorithm's memory, not the rule screen
    print(json.dumps(measure(float(args[0]), args[1], args[2], *map(float, args[3:]))))
