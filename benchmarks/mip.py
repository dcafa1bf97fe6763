"""auto against the tools a user would pick instead: a plain MIP (HiGHS) and plain CP-SAT.

    python -m benchmarks.mip [--sizes 300,1000,2000,5000,20000] [--time-limit 60]

On generated every-rule instances (``km.synth.region("Bretagne", employees=n, seed=0)``, whose
``rules`` default is ``"all"``: team minimums, employer daily caps and budgets,
``max_per_employer``, mixed durations, one mission per date), the ``max_hours`` policy and the
full candidate graph, each at the same time limit:

- ``milp``: a plain MIP written here, independently of koeeo_match's solvers (only the candidate
  graph's arcs and integer scores are shared), solved by ``scipy.optimize.milp`` (HiGHS): one
  binary per arc and per team mission, ``min_seats * y <= sum x <= seats * y``, each rule as one
  row per group; lexicographic in two stages (hours, then the tie-breaks with the hours held);
- ``mip``: koeeo_match's MIP alone (:func:`koeeo_match.solvers.mip.solve_mip`: HiGHS through
  OR-Tools MathOpt, with the team links ``x_a <= y``);
- ``auto`` and ``cpsat``: ``km.solve(problem, method=..., time_limit=T)``.

Each row records the hours placed, the proven bound (in hours), the gap, the status, the solver's
seconds (the candidate graph excluded), the seconds to a proven optimum where one was proven and
the violations ``km.check`` finds.  Rows are merged by size into ``benchmarks/results/mip.json``
(with the machine); ``python -m benchmarks.report`` renders them (:func:`section`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import sys
import time
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

import koeeo_match as km
from koeeo_match.model import NO_DATE
from koeeo_match.solvers import SolveOptions
from koeeo_match.solvers.cpsat import solve_cpsat
from koeeo_match.solvers.mip import solve_mip

from . import machine
from .common import repo_root

OUT = os.path.join("benchmarks", "results", "mip.json")
SIZES = (300, 1_000, 1_200, 2_000, 5_000, 20_000)  # 1,200: the demo's instance (`koeeo-match demo`)
METHODS = ("milp", "mip", "auto", "cpsat")
#: With --repeat R, runs that proved optimality within this many seconds are repeated R times
#: (methods interleaved) and the fastest is shown: the benchmark machine is shared.
REPEAT_BELOW = 10.0
log = logging.getLogger("benchmarks.mip")


# ---------------------------------------------------------------- the independent MIP (scipy)
def _group_rows(keys: list[np.ndarray], on: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(row of each selected arc, the arcs, number of rows): one row per distinct key tuple."""
    arcs = np.flatnonzero(on)
    if arcs.size == 0:
        return np.zeros(0, np.int64), arcs, 0
    stacked = np.stack([k[arcs].astype(np.int64) for k in keys], 1)
    uniq, row = np.unique(stacked, axis=0, return_inverse=True)
    return row.reshape(-1), arcs, len(uniq)


def plain_mip(problem: km.Problem, graph: Any, time_limit: float) -> dict[str, Any]:
    """The every-rule model written from the problem's tables, solved by scipy's HiGHS."""
    t0 = time.perf_counter()
    e, m, er = problem.employees, problem.missions, problem.employers
    ea, ma = graph.employee.astype(np.int64), graph.mission.astype(np.int64)
    n = ea.size
    hours = m.hours[ma]
    team_m = np.flatnonzero((m.min_seats > 1) & (np.bincount(ma, minlength=len(m)) > 0))
    ycol = np.full(len(m), -1, np.int64)
    ycol[team_m] = n + np.arange(team_m.size)
    n_var = n + team_m.size
    rows, cols, vals, ub = [], [], [], []
    n_rows = 0

    def limit(r: np.ndarray, per_arc: np.ndarray, k: int) -> np.ndarray:
        """Each group's limit (the same on each of its arcs)."""
        out = np.zeros(k)
        out[r] = per_arc
        return out

    def add(row: np.ndarray, col: np.ndarray, val: np.ndarray, rhs: np.ndarray) -> None:
        nonlocal n_rows
        rows.append(row + n_rows)
        cols.append(col)
        vals.append(val)
        ub.append(rhs)
        n_rows += rhs.size

    emp_of = e.employer[ea]
    dated = m.date[ma] != NO_DATE
    r, a, k = _group_rows([ea], np.ones(n, bool))  # hours entitlement
    add(r, a, hours[a], limit(r, e.hours[ea[a]], k))
    r, a, k = _group_rows([ea, m.date[ma]], dated)  # one mission per date
    add(r, a, np.ones(a.size), np.ones(k))
    solo = m.min_seats[ma] <= 1
    r, a, k = _group_rows([ma], solo)  # seats
    add(r, a, np.ones(a.size), limit(r, m.seats[ma[a]], k))
    if team_m.size:  # min_seats y <= sum x <= seats y
        t = np.flatnonzero(~solo)
        row_of = np.searchsorted(team_m, ma[t])
        add(np.concatenate([row_of, np.arange(team_m.size)]), np.concatenate([t, n + np.arange(team_m.size)]),
            np.concatenate([np.ones(t.size), -m.seats[team_m].astype(float)]), np.zeros(team_m.size))
        add(np.concatenate([row_of, np.arange(team_m.size)]), np.concatenate([t, n + np.arange(team_m.size)]),
            np.concatenate([-np.ones(t.size), m.min_seats[team_m].astype(float)]), np.zeros(team_m.size))
    capped = (m.max_per_employer[ma] >= 0) & (emp_of >= 0)
    r, a, k = _group_rows([ma, emp_of], capped)  # max_per_employer
    add(r, a, np.ones(a.size), limit(r, m.max_per_employer[ma[a]], k))
    if len(er):
        cap = np.where(emp_of >= 0, er.daily_cap[np.maximum(emp_of, 0)], -1)
        r, a, k = _group_rows([emp_of, m.date[ma]], dated & (cap >= 0))  # employer daily caps
        add(r, a, np.ones(a.size), limit(r, cap[a], k))
        bud = np.where(emp_of >= 0, er.hours_budget[np.maximum(emp_of, 0)], np.inf)
        r, a, k = _group_rows([emp_of], np.isfinite(bud))  # employer hour budgets
        add(r, a, hours[a], limit(r, bud[a], k))
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_var))
    b = np.concatenate(ub)
    lo = np.zeros(n_var)
    fz = problem.forced
    if len(fz):
        key = ea * len(m) + ma
        pos = np.searchsorted(key, fz.employee.astype(np.int64) * len(m) + fz.mission)
        lo[pos] = 1.0
    sc = graph.scale
    prim = sc.primary(graph.score).astype(float)
    sec = (graph.score - sc.primary(graph.score) * sc.multiplier).astype(float)
    cons = [LinearConstraint(A, -np.inf, b)]
    built = time.perf_counter() - t0

    def run(c: np.ndarray, extra: list, limit: float) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return milp(-np.concatenate([c, np.zeros(team_m.size)]), integrality=np.ones(n_var),
                        bounds=Bounds(lo, np.ones(n_var)), constraints=cons + extra,
                        options={"time_limit": max(limit, 0.01), "mip_rel_gap": 0.0})

    t1 = time.perf_counter()
    r1 = run(prim, [], time_limit)
    s1 = time.perf_counter() - t1
    out: dict[str, Any] = {"build_seconds": built, "stage_seconds": [s1], "status": "unknown"}
    if r1.x is None:
        out["seconds"] = built + s1
        return out
    x = r1.x[:n] > 0.5
    proven1 = r1.status == 0
    p_val = float(prim[x].sum())
    bound_prim = p_val if proven1 else float(np.floor(-r1.mip_dual_bound + 1e-6))
    out.update(hours=p_val / sc.primary_scale, bound=bound_prim / sc.primary_scale, primary_proven=proven1,
               primary_proven_seconds=built + s1 if proven1 else None)
    proven2 = False
    left = time_limit - s1
    if proven1 and left > 0.05 and np.any(sec):
        t2 = time.perf_counter()
        row = LinearConstraint(np.concatenate([prim, np.zeros(team_m.size)])[None, :], p_val - 0.5, np.inf)
        r2 = run(sec / max(np.abs(sec).max(), 1), [row], left)
        out["stage_seconds"].append(time.perf_counter() - t2)
        if r2.x is not None and float(sec[r2.x[:n] > 0.5].sum()) > float(sec[x].sum()):
            x = r2.x[:n] > 0.5
        proven2 = r2.status == 0
    out["seconds"] = built + sum(out["stage_seconds"])
    out["status"] = "optimal" if proven1 and (proven2 or not np.any(sec)) else "feasible"
    out["optimal_seconds"] = out["seconds"] if out["status"] == "optimal" else None
    out["score"] = int(graph.score[x].sum())
    pairs = list(zip(problem.employees.ids[ea[x]].tolist(), problem.missions.ids[ma[x]].tolist()))
    out["violations"] = len(km.check(problem, pairs))
    return out


# ---------------------------------------------------------------- koeeo_match's routes
def koeeo_mip(problem: km.Problem, graph: Any, time_limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    res = solve_mip(problem, graph, SolveOptions(time_limit=time_limit))
    secs = time.perf_counter() - t
    sc = graph.scale
    sel = res.selected
    pairs = list(zip(problem.employees.ids[graph.employee[sel]].tolist(),
                     problem.missions.ids[graph.mission[sel]].tolist()))
    found = res.status.value in ("optimal", "feasible")
    return {"status": res.status.value,
            "hours": float(sc.primary(graph.score[sel]).sum()) / sc.primary_scale if found else None,
            "bound": None if res.bound is None else sc.primary_bound(res.bound), "seconds": secs,
            "optimal_seconds": secs if res.status.value == "optimal" else None,
            "primary_proven": res.stats.get("mip_primary_proven"), "stage_seconds": res.stats.get("mip_seconds"),
            "score": int(graph.score[sel].sum()), "violations": len(km.check(problem, pairs))}


def koeeo(problem: km.Problem, method: str, time_limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    sol = km.solve(problem, method=method, time_limit=time_limit)
    wall = time.perf_counter() - t
    secs = sol.metrics["solve_seconds"] - sol.metrics.get("candidate_seconds", 0.0)
    return {"status": sol.status.value, "hours": sol.objective, "bound": sol.bound, "gap": sol.gap, "seconds": secs,
            "wall_seconds": wall, "optimal_seconds": secs if sol.status.value == "optimal" else None,
            "method": sol.method, "violations": len(km.check(problem, sol))}


def _timed(method: str, problem: km.Problem, graph: Any, time_limit: float) -> dict[str, Any]:
    load = os.getloadavg()[0]
    try:
        if method == "milp":
            r = plain_mip(problem, graph, time_limit)
        elif method == "mip":
            r = koeeo_mip(problem, graph, time_limit)
        else:
            r = koeeo(problem, method, time_limit)
    except (km.KoeeoMatchError, MemoryError) as exc:  # e.g. refused for memory: recorded, not hidden
        r = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    r["load_before"] = load  # the machine is shared: the 1-minute load average when the run started
    return r


def run_size(n: int, time_limit: float, methods: tuple[str, ...], repeat: int = 1) -> dict[str, Any]:
    problem = km.synth.region("Bretagne", employees=n, seed=0)
    t = time.perf_counter()
    graph = km.build_candidates(problem, "max_hours")
    row: dict[str, Any] = {"employees": n, "missions": problem.n_missions, "arcs": len(graph),
                           "candidate_seconds": time.perf_counter() - t, "runs": {}}
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for i in range(repeat):  # methods interleaved, so that a load change hits each alike
        for method in methods:
            if i and (runs[method][0].get("optimal_seconds") is None or runs[method][0]["seconds"] > REPEAT_BELOW):
                continue  # repeats only for runs that prove quickly
            log.info("%d employees, %s (run %d) ...", n, method, i + 1)
            runs[method].append(_timed(method, problem, graph, time_limit))
    for method in methods:
        r = min(runs[method], key=lambda x: x.get("seconds", math.inf))  # the least disturbed run
        if len(runs[method]) > 1:
            r = {**r, "runs": len(runs[method]), "all_seconds": [x.get("seconds") for x in runs[method]]}
        if r.get("bound") is not None and r.get("hours") is not None and "gap" not in r:
            r["gap"] = 0.0 if r["status"] == "optimal" else max(r["bound"] - r["hours"], 0) / max(abs(r["bound"]), 1)
        row["runs"][method] = r
        log.info("  %s", {k: r.get(k) for k in ("status", "hours", "bound", "seconds", "violations")})
    return row


def tie_breaks(n: int, time_limit: float) -> dict[str, Any]:
    """The second stage alone, HiGHS against CP-SAT: from the first stage's proven hours optimum,
    how much each improves the tie-breaks (the secondary total) within ``time_limit``, and whether
    it proves them (what ``auto``'s ``TIE_MIP_ARCS`` is set from)."""
    problem = km.synth.region("Bretagne", employees=n, seed=0)
    graph = km.build_candidates(problem, "max_hours")
    first = solve_mip(problem, graph, SolveOptions(time_limit=600), shares=(1.0, 0.0))
    value = int(graph.score[first.selected].sum())
    held = int(first.stats["mip_primary"])
    row: dict[str, Any] = {"employees": n, "arcs": len(graph), "time_limit": time_limit,
                           "primary_proven": first.stats["mip_primary_proven"],
                           "first_stage_seconds": first.stats["mip_seconds"][0]}
    t = time.perf_counter()
    hi = solve_mip(problem, graph, SolveOptions(time_limit=time_limit, hint=first.selected), shares=(1.0, 1.0))
    row["highs"] = {"seconds": time.perf_counter() - t, "stage_seconds": hi.stats["mip_seconds"],
                    "status": hi.status.value, "gain": int(graph.score[hi.selected].sum()) - value,
                    "bound_over_start": None if hi.bound is None else hi.bound - value}
    t = time.perf_counter()
    cp = solve_cpsat(problem, graph, SolveOptions(time_limit=time_limit, hint=first.selected), min_primary=held)
    row["cpsat"] = {"seconds": time.perf_counter() - t, "status": cp.status.value,
                    "gain": int(graph.score[cp.selected].sum()) - value,
                    "bound_over_start": None if cp.bound is None else int(cp.bound) - value}
    log.info("tie-breaks %d: %s", n, row)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.mip", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="employees, comma-separated")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeat", type=int, default=1, help=f"runs of each method proven within {REPEAT_BELOW:.0f} s")
    ap.add_argument("--tie-breaks", default="", help="sizes for the second-stage experiment (HiGHS vs CP-SAT)")
    ap.add_argument("--out", default=os.path.join(repo_root(), OUT))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    warnings.simplefilter("ignore", RuntimeWarning)
    doc: dict[str, Any] = {"rows": []}
    if os.path.exists(args.out):
        with open(args.out) as fh:
            doc = json.load(fh)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    ties = {(r["employees"], r["time_limit"]): r for r in doc.get("tie_breaks", [])}
    for n in [int(x) for x in args.tie_breaks.split(",") if x]:
        ties[n, args.time_limit] = {**tie_breaks(n, args.time_limit), "machine": machine.describe(repo_root()),
                   "command": "python -m benchmarks.mip " + shlex.join(argv if argv is not None else sys.argv[1:])}
        doc["tie_breaks"] = [ties[k] for k in sorted(ties)]
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, default=float)
    rows = {r["employees"]: r for r in doc.get("rows", [])}
    for n in sizes:
        rows[n] = run_size(n, args.time_limit, tuple(args.methods.split(",")), args.repeat)
        rows[n]["time_limit"] = args.time_limit
        rows[n]["command"] = "python -m benchmarks.mip " + shlex.join(argv if argv is not None else sys.argv[1:])
        rows[n]["machine"] = machine.describe(repo_root())
        doc["rows"] = [rows[k] for k in sorted(rows)]
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, default=float)
    return 0


# ---------------------------------------------------------------- docs/benchmarks.md
def _h(x: float | None) -> str:
    return "–" if x is None else f"{x:,.1f}"


def _s(x: float | None) -> str:
    return "–" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def _load(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f} %"


def section(doc: dict[str, Any], rel: str) -> list[str]:
    """Markdown for docs/benchmarks.md: one table row per (size, method), measured numbers only."""
    L = ["## auto against a plain MIP and plain CP-SAT (`benchmarks.mip`)", "",
         f"From `{rel}`: `km.synth.region(\"Bretagne\", employees=n, seed=0)` (every rule), `max_hours`, the full "
         "candidate graph, each method at the same time limit. *milp*: a plain MIP written independently in "
         "`benchmarks/mip.py`, solved by `scipy.optimize.milp` (HiGHS), hours then tie-breaks; *mip*: "
         "koeeo_match's MIP alone (`solvers.mip.solve_mip`, HiGHS through OR-Tools MathOpt); *auto*, *cpsat*: "
         "`km.solve`. *s*: the solver's seconds (the candidate graph excluded; with `--repeat`, the fastest of "
         "*runs* interleaved runs); *proven in s*: the same, where the optimum (tie-breaks included) was proven; "
         "*hours proven*: whether the hours optimum was (`–`: not recorded); *load*: the 1-minute load average "
         "when the run started (the 2-core machine is shared with other jobs: above 2, every run is slowed).", "",
         "| employees | arcs | limit s | method | status | hours | bound (h) | gap | s | runs | proven in s "
         "| hours proven | violations | load | auto's route |",
         "| ---: | ---: | ---: | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | :--- | ---: | ---: | :--- |"]
    verdicts = []
    for row in doc.get("rows", []):
        runs = row["runs"]
        for method in METHODS:
            r = runs.get(method)
            if r is None:
                continue
            found = r.get("status") in ("optimal", "feasible")
            proven = r.get("primary_proven")
            if proven is None and r.get("status") == "optimal":
                proven = True
            L.append(f"| {row['employees']:,} | {row['arcs']:,} | {row.get('time_limit', 0):.0f} | {method} "
                     f"| {r.get('status')} | {_h(r.get('hours') if found else None)} | {_h(r.get('bound'))} "
                     f"| {_pct(r.get('gap'))} | {_s(r.get('seconds'))} | {r.get('runs', 1)} "
                     f"| {_s(r.get('optimal_seconds'))} | {'–' if proven is None else ('yes' if proven else 'no')} "
                     f"| {r.get('violations', '–')} | {_load(r.get('load_before'))} | {r.get('method', '')} |")
        a, c, m = runs.get("auto"), runs.get("cpsat"), runs.get("milp")
        if a and c and a.get("hours") is not None and c.get("hours") is not None:
            verdicts.append(f"{row['employees']:,}: auto {_h(a['hours'])} h vs cpsat {_h(c['hours'])} h"
                            + (f", proven in {_s(a.get('optimal_seconds'))} s vs the plain MIP's "
                               f"{_s(m.get('optimal_seconds'))} s" if m and a.get("optimal_seconds") else ""))
    L.append("")
    errors = [f"{row['employees']:,} {m}: {r['error']}" for row in doc.get("rows", []) for m, r in row["runs"].items()
              if r.get("error")]
    if errors:
        L += ["Runs that did not solve: " + "; ".join(errors), ""]
    if verdicts:
        L += ["At the limit: " + "; ".join(verdicts) + ".", ""]
    ties = doc.get("tie_breaks", [])
    if ties:
        L += ["The tie-break stage alone (`--tie-breaks`): from the first stage's proven hours optimum, the "
              "secondary total each solver adds within the limit, in integer score units, and whether it proves "
              "the tie-breaks (HiGHS as `solve_mip` runs it, presolve off on these sizes, after the first stage "
              "again within the same limit: *HiGHS s* is its tie-break stage's; CP-SAT hinted, the hours held, "
              "2 workers):", "",
              "| employees | arcs | limit s | first stage s | HiGHS gain | HiGHS status | HiGHS s | CP-SAT gain "
              "| CP-SAT status | CP-SAT s |",
              "| ---: | ---: | ---: | ---: | ---: | :--- | ---: | ---: | :--- | ---: |"]
        for t in ties:
            h, c = t["highs"], t["cpsat"]
            L.append(f"| {t['employees']:,} | {t['arcs']:,} | {t['time_limit']:.0f} | {_s(t['first_stage_seconds'])} "
                     f"| {h['gain']:,} | {h['status']} | {_s(h['stage_seconds'][-1])} | {c['gain']:,} | {c['status']} "
                     f"| {_s(c['seconds'])} |")
        L.append("")
    first = next(iter(doc.get("rows", [])), None)
    if first:
        mc = first["machine"]
        commands = sorted({r.get("command", "?") for r in [*doc.get("rows", []), *ties]})
        L += [f"Machine: {mc['cpu_model']}, {mc['cores']} cores, ortools {mc['ortools']}, scipy {mc['scipy']}; "
              "commands: " + ", ".join(f"`{c}`" for c in commands) + ".", ""]
    return L


if __name__ == "__main__":
    raise SystemExit(main())
