"""One benchmark run, meant to be a fresh process so that its peak RSS is its own.

    python -m benchmarks.one --size 10000 --method koeeo-flow --json -
    python -m benchmarks.one --departement 35 --method koeeo-flow --k none --json out.json

Stages (each timed, with its peak RSS sampled every 20 ms): generate, candidates, solve, check,
metrics.  ``koeeo-*`` methods and greedy/fcfs run through ``km.pipeline.run``; the peers run the
same stages here, on the same candidate graph.  Progress goes to stderr, the result (one JSON
object) to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from typing import Any

import numpy as np

from .common import EXTRA_METHODS, METHODS, POLICY, TOP_K, Stages, make_problem, maxrss, say, tree_sha256

# koeeo-priced: the library's default exact route (k=None): pricing over the implicit full graph;
# koeeo-flow with k=None builds the full graph whole (what pricing is measured against)
KM_METHODS = {"koeeo-flow": "flow", "koeeo-auto": "auto", "koeeo-priced": "flow", "greedy": "greedy", "fcfs": "fcfs"}


def _metrics_subset(met: dict[str, Any]) -> dict[str, Any]:
    keys = ("assigned_hours", "assignments", "employees_assigned_share", "missions_filled_share",
            "missions_started_share", "associations_served_share", "mean_km", "p95_km", "co2_kg",
            "gini_hours_by_association", "worst_decile_coverage_by_departement")
    out = {}
    for k in keys:
        v = met.get(k)
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _instance_info(problem, graph_arcs: int) -> dict[str, Any]:
    return {
        "employees": int(problem.n_employees),
        "missions": int(problem.n_missions),
        "seats": int(problem.missions.seats.sum()),
        "supply_hours": float(problem.employees.hours.sum()),
        "demand_hours": float((problem.missions.hours * problem.missions.seats).sum()),
        "arcs": int(graph_arcs),
    }


def run_km(method: str, make, k: int | None, time_limit: float | None) -> dict[str, Any]:
    import koeeo_match as km

    held = []

    def make_and_hold():
        held.append(make())
        return held[-1]

    import koeeo_match.engine as engine

    engine.PRICED_MIN_ARCS = 0 if method == "koeeo-priced" else 2**62  # priced, or the graph built whole
    r = km.pipeline.run(make_and_hold, method=KM_METHODS[method], policy=km.Policy.preset(POLICY), top_k=k,
                        time_limit=time_limit, seed=0, progress=say)
    sol = r.solution
    seats = int(held[0].missions.seats.sum())
    del held[:]
    met = sol.metrics
    graph_optimal = bool(met.get("graph_optimal"))
    return {
        "stages": [
            {"name": s.name, "seconds": s.seconds, "peak_rss_bytes": s.peak_rss_bytes,
             "children_peak_rss_bytes": s.children_peak_rss_bytes} for s in r.stages
        ],
        "instance": {**{k_: r.info[k_] for k_ in ("employees", "missions", "supply_hours", "demand_hours", "arcs")},
                     "seats": seats},
        "solver_status": sol.status.value,
        "method_used": r.info.get("method"),
        "objective": float(sol.objective),
        # on the candidate graph: a flow is optimal there (graph_optimal); greedy/fcfs give no bound
        "bound": float(sol.objective) if graph_optimal else (None if sol.bound is None else float(sol.bound)),
        "gap": 0.0 if graph_optimal else sol.gap,
        "graph_optimal": graph_optimal,
        "library_bound": None if sol.bound is None else float(sol.bound),
        "library_status": sol.status.value,
        "violations": int(r.violations),
        "metrics": _metrics_subset(met),
        "message": sol.message,
        "pricing": met.get("pricing"),
    }


def run_peer(method: str, make, k: int | None, time_limit: float | None) -> dict[str, Any]:
    import koeeo_match as km
    from koeeo_match import metrics as km_metrics
    from koeeo_match.solution import Solution, Status

    from .peers import PEERS, repair_max_per_employer

    stage = Stages()
    problem = stage("generate", make)
    policy = km.Policy.preset(POLICY)
    graph = stage("candidates", lambda: km.build_candidates(problem, policy, k=k))
    say(f"  {graph!r}")
    res = stage("solve", lambda: PEERS[method](problem, graph, time_limit))
    sel = np.sort(np.asarray(res["selected"], np.int64))

    def objective(s: np.ndarray) -> float:  # computed as koeeo does: the primary terms (hours) of the arcs
        return float(policy.score({t: v[s] for t, v in graph.terms.items()}, "primary").sum())

    def solution(s: np.ndarray, status: Status) -> Solution:
        e, m = graph.employee[s], graph.mission[s]
        # a proven optimum is its own bound (km.check flags an optimal status without one)
        return Solution(status=status, objective=objective(s), bound=objective(s) if status == Status.OPTIMAL else None,
                        employee_ids=problem.employees.ids[e], mission_ids=problem.missions.ids[m],
                        method=method, employee=e, mission=m)

    status = Status.OPTIMAL if res["optimal_on_graph"] else (Status.FEASIBLE if sel.size else Status.UNKNOWN)
    sol = solution(sel, status)
    violations = stage("check", lambda: km.check(problem, sol))
    e, m = graph.employee[sel], graph.mission[sel]
    met = stage("metrics", lambda: km_metrics.compute(problem, e, m))
    obj = objective(sel)
    if res["optimal_on_graph"]:
        bound = obj
    elif res["score_bound"] is not None:
        bound = max(graph.scale.primary_bound(res["score_bound"]), obj)
    else:
        bound = None
    gap = None if bound is None else max(bound - obj, 0.0) / max(abs(bound), 1.0)
    out: dict[str, Any] = {
        "stages": stage.to_list(),
        "instance": _instance_info(problem, len(graph)),
        "solver_status": res["status"],
        "method_used": method,
        "objective": obj,
        "bound": bound,
        "gap": gap,
        "graph_optimal": bool(res["optimal_on_graph"]),
        "violations": len(violations),
        "violation_rules": sorted({v.rule for v in violations}),
        "metrics": _metrics_subset(met),
        "stats": res.get("stats", {}),
    }
    if violations and {v.rule for v in violations} == {"max_per_employer"}:
        rep = repair_max_per_employer(problem, graph, sel)
        rsol = solution(rep, Status.FEASIBLE)
        rv = km.check(problem, rsol)
        rmet = km_metrics.compute(problem, graph.employee[rep], graph.mission[rep])
        out["repaired"] = {
            "how": "dropped the lowest-score volunteers of each (mission, employer) over max_per_employer",
            "objective": objective(rep),
            "violations": len(rv),
            "metrics": _metrics_subset(rmet),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.one", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--size", type=int, help="employees: km.synth.france(seed=0, scale=N/2_857_143, rules='flow')")
    where.add_argument("--departement", help="km.synth.france(seed=0, departement=CODE, rules='flow')")
    where.add_argument("--region", help="km.synth.france(seed=0, region=NAME, rules='flow')")
    ap.add_argument("--method", required=True, choices=METHODS + EXTRA_METHODS)
    ap.add_argument("--k", default=str(TOP_K), help=f"candidate cap top_k (default {TOP_K}; 'none': full graph)")
    ap.add_argument("--time-limit", type=float, default=None, help="solver time limit (CP-SAT), seconds")
    ap.add_argument("--json", default="-", help="where to write the result ('-': stdout)")
    a = ap.parse_args(argv)
    k = None if a.k.lower() in ("none", "full", "all") else int(a.k)
    make = lambda: make_problem(a.size, departement=a.departement, region=a.region)  # noqa: E731
    t0 = time.perf_counter()
    out: dict[str, Any] = {"method": a.method, "size": a.size, "departement": a.departement, "region": a.region,
                           "top_k": k, "time_limit": a.time_limit}
    try:
        runner = run_km if a.method in KM_METHODS else run_peer
        out.update(runner(a.method, make, k, a.time_limit))
        out["status"] = "ok"
    except MemoryError:
        out.update(status="out of memory", reason="MemoryError")
    except Exception as exc:  # recorded, not hidden
        traceback.print_exc()
        out.update(status="error", reason=f"{type(exc).__name__}: {exc}"[:2000])
    out["wall_seconds"] = time.perf_counter() - t0
    import os

    import koeeo_match

    pkg = os.path.dirname(os.path.abspath(koeeo_match.__file__))
    out["code"] = {"koeeo_match_path": pkg, "src_sha256": tree_sha256(pkg)}
    import resource

    ru_s, ru_c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_seconds_self"] = ru_s.ru_utime + ru_s.ru_stime
    out["cpu_seconds_children"] = ru_c.ru_utime + ru_c.ru_stime
    rss = maxrss()
    out["ru_maxrss_self_bytes"] = rss["self"]
    out["ru_maxrss_children_bytes"] = rss["children"]
    text = json.dumps(clean(out), allow_nan=False)
    if a.json == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(a.json, "w") as fh:
            fh.write(text)
    return 0 if out["status"] == "ok" else 1


def clean(v: Any) -> Any:
    """JSON-ready: numpy scalars and arrays to Python, NaN and infinities to None."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


if __name__ == "__main__":
    sys.exit(main())
