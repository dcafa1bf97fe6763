"""Every rule at scale: ``python -m benchmarks.every_rule [--scale S] [--time-limit T]``.

The case of the every-rule issue: the national instance (``rules="all"``: team minimums on the
marathons, employer daily caps and budgets, ``max_per_employer`` on team missions, mixed durations)
with 10 % of employees holding 2–3 days, solved by ``method="auto"`` on the capped candidate graph
(``top_k=5``), checked, with the gap against the computed bound.  Also: on instances up to 2,000
employees with every rule, ``auto`` against the proven optimum of monolithic CP-SAT.

Writes ``benchmarks/results/every_rule.json``; ``python -m benchmarks.report`` adds it to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import warnings

import koeeo_match as km

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "every_rule.json")


def national(scale: float, time_limit: float, top_k: int) -> dict:
    res = km.pipeline.run(
        lambda: km.synth.france(seed=0, scale=scale, rules="all", multi_day_share=0.1),
        method="auto", top_k=top_k, time_limit=time_limit, progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    sol = res.solution
    fc = km.solve(km.synth.france(seed=0, scale=scale, rules="all", multi_day_share=0.1), method="fcfs", top_k=top_k)
    return {
        "scale": scale,
        "time_limit": time_limit,
        "top_k": top_k,
        **res.to_dict(),
        "seconds_after_generate": res.seconds("candidates", "solve", "check", "metrics"),
        "peak_rss_bytes": res.peak_rss_bytes(),
        "graph_bound": sol.metrics.get("graph_bound"),
        "graph_gap": sol.metrics.get("graph_gap"),
        "fcfs_hours": fc.metrics["assigned_hours"],
        "fcfs_missions_filled_share": fc.metrics["missions_filled_share"],
    }


def small(sizes: list[int], time_limit: float) -> list[dict]:
    rows = []
    for n in sizes:
        p = km.synth.region("Bretagne", employees=n, seed=0)
        t = time.perf_counter()
        mono = km.solve(p, method="cpsat", time_limit=time_limit)
        t_mono = time.perf_counter() - t
        t = time.perf_counter()
        auto = km.solve(p, method="auto", time_limit=time_limit)
        t_auto = time.perf_counter() - t
        rows.append({
            "employees": n, "cpsat_status": mono.status.value, "cpsat_objective": mono.objective,
            "cpsat_seconds": t_mono, "auto_status": auto.status.value, "auto_objective": auto.objective,
            "auto_bound": auto.bound, "auto_seconds": t_auto, "auto_method": auto.method,
            "violations": len(km.check(p, auto)),
        })
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="share of the national instance")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--small", default="500,1000,2000", help="sizes compared with monolithic CP-SAT")
    ap.add_argument("--small-time-limit", type=float, default=120.0)
    ap.add_argument("--out", default=OUT, help="JSON written (default benchmarks/results/every_rule.json; the "
                    "report also reads every_rule_national.json beside it)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    doc = {
        "command": "python -m benchmarks.every_rule " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "small": small([int(x) for x in args.small.split(",") if x], args.small_time_limit),
        "national": national(args.scale, args.time_limit, args.top_k),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, default=float)
    print(json.dumps({k: doc["national"][k] for k in ("seconds_after_generate", "peak_rss_bytes", "graph_gap",
                                                      "violations")}, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
