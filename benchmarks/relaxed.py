"""Every rule at scale: ``python -m benchmarks.relaxed [--scale S] [--time-limit T]``.

``km.synth.france(seed=0, scale=S, rules="all", multi_day_share=0.1)`` (the instance of
``benchmarks.every_rule``) solved two ways with the same time limit: the route ``km.solve`` takes
when the full graph does not fit (``koeeo_match.engine.relaxed_solution``: the flow relaxation
and the LP relaxation of every rule priced over the implicit full graph for a bound on the whole
problem, then ``auto`` on the arcs they brought in), and ``auto`` on the ``top_k=5`` capped graph
(bound and gap on that graph only; ``--no-capped`` skips it).  Each result is checked by
``km.check`` and appended to ``benchmarks/results/relaxed.json`` with the machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import koeeo_match as km
from koeeo_match.engine import relaxed_solution
from koeeo_match.solvers import SolveOptions

from . import machine
from .common import record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "relaxed.json")


def _row(route: str, p: km.Problem, s: km.Solution, seconds: float) -> dict:
    return {"route": route, "status": s.status.value, "objective": s.objective, "bound": s.bound, "gap": s.gap,
            "graph_bound": s.metrics.get("graph_bound"), "method": s.method, "seconds": seconds,
            "arcs": s.metrics.get("candidate_arcs"), "violations": len(km.check(p, s)),
            "pricing_rounds": (s.metrics.get("pricing") or {}).get("rounds"),
            "relaxation_bound": s.metrics.get("relaxation_bound"), "lp_bound": s.metrics.get("lp_bound"),
            "lp_rounds": (s.metrics.get("lp_pricing") or {}).get("rounds"),
            "lp_arcs": (s.metrics.get("lp_pricing") or {}).get("arcs")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--no-capped", action="store_true", help="skip the top_k=5 comparison row")
    a = ap.parse_args(argv)
    p = km.synth.france(seed=0, scale=a.scale, rules="all", multi_day_share=0.1)
    rows = []
    t = time.perf_counter()
    s = relaxed_solution(p, km.Policy.preset("max_hours"), SolveOptions(time_limit=a.time_limit))
    rows.append(_row("relaxed (priced bound)", p, s, time.perf_counter() - t))
    if not a.no_capped:
        t = time.perf_counter()
        c = km.solve(p, method="auto", top_k=5, time_limit=a.time_limit)
        rows.append(_row("capped top_k=5", p, c, time.perf_counter() - t))
    run = {"scale": a.scale, "time_limit": a.time_limit, "employees": p.n_employees, "rows": rows,
           "command": "python -m benchmarks.relaxed " + shlex.join(argv if argv is not None else sys.argv[1:]),
           "machine": machine.describe(), "load_average": os.getloadavg()[0]}
    record_run(a.out, run, ("scale", "time_limit"))
    for r in rows:
        print(f"{r['route']}: {r['status']} {r['objective']:,.1f} h, bound {r['bound']}, gap {r['gap']}, "
              f"{r['seconds']:.0f} s, {r['violations']} violation(s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
