"""Exact at every scale: ``python -m benchmarks.priced [--national] [--scale S] [--region R] [--full] ...``.

The library's default exact route (``top_k=None``: pricing over the implicit full graph,
``koeeo_match.solvers.priced``) through ``km.pipeline.run`` on ``km.synth.france(seed=0, ...,
rules="flow")``: every stage timed with its peak RSS, the certificate, the rounds, the arcs
materialised against the full graph's estimated size (``km.estimate_arcs``, from a sample), and
``km.check``'s violations.  Each instance runs after the other, in a process of its own when several
are asked (its peaks then its own: a process's peak of its children never falls); the result
of each is appended to ``benchmarks/results/priced.json`` (with the machine), which
``python -m benchmarks.report`` renders in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import koeeo_match as km
from koeeo_match.candidates import arc_estimate

from . import machine
from .common import add_instance_args, instances, record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "priced.json")


def run(label: str, make) -> dict:
    res = km.pipeline.run(make, method="auto", top_k=None, progress=lambda s: print(s, file=sys.stderr, flush=True))
    sol = res.solution
    assert sol is not None
    pr = dict(sol.metrics.get("pricing") or {})
    p = make()
    est = arc_estimate(p)
    return {
        "instance": label,
        **res.to_dict(),
        "seconds_after_generate": res.seconds("candidates", "solve", "check", "metrics"),
        "peak_rss_bytes": res.peak_rss_bytes(),
        "pricing": pr,
        "pricing_round_seconds": sol.metrics.get("pricing_round_seconds"),
        "eligible_arcs_estimate": est.arcs,
        "eligible_arcs_standard_error": est.stderr,
        "materialised_share": pr.get("arcs_materialised", 0) / max(est.arcs, 1),
    }


def full_graph(kw: dict) -> dict:
    """The same instance solved on its full graph built whole (``flow``), timed after generation with
    its peak RSS: what pricing is compared with (run in a process of its own)."""
    from koeeo_match.engine import solve_graph
    from koeeo_match.memory import PeakSampler, rss_bytes
    from koeeo_match.solvers import SolveOptions

    p = km.synth.france(seed=0, rules="flow", **kw)
    t = time.perf_counter()
    with PeakSampler() as ps:
        g = km.build_candidates(p, "max_hours")
        s = solve_graph(p, g, "flow", SolveOptions(), candidate_seconds=time.perf_counter() - t)
    return {"arcs": len(g), "objective": s.objective, "status": s.status.value,
            "seconds": time.perf_counter() - t, "peak": max(ps.peak, rss_bytes())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--national", action="store_true", help="km.synth.france(seed=0): 2,857,143 employees")
    add_instance_args(ap)
    ap.add_argument("--full", action="store_true",
                    help="also solve each instance on its full graph built whole, in a process of its own")
    ap.add_argument("--remote-cap", default=None,
                    help="the scan's cap on the employees each remote mission meets (an integer, or 'none': "
                    "every one, as before partial pricing); the instance's label then says so")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    todo = instances(a)
    if a.national:
        todo.append(("national", {}))
    if a.remote_cap is not None:
        todo = [(f"{label} (remote_cap={a.remote_cap.lower()})", kw) for label, kw in todo]
    command = "python -m benchmarks.priced " + shlex.join(argv if argv is not None else sys.argv[1:])
    if len(todo) == 1:
        print(_one(*todo[0], a.full, a.remote_cap, command, a.out), flush=True)
        return 0
    # each instance in a fresh process: a process's peak of its children (RUSAGE_CHILDREN, which the
    # stages' peaks read) never falls, so a later instance would report an earlier one's --full peak
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    for label, kw in todo:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            print(ex.submit(_one, label, kw, a.full, a.remote_cap, command, a.out).result(), flush=True)
    return 0


def _one(label: str, kw: dict, full: bool, remote_cap: str | None, command: str, out: str) -> str:
    """Run one instance (and its full graph, ``full``), record it in ``out``; the line to print."""
    if remote_cap is not None:  # the priced route as the engine calls it, with this cap
        import functools

        import koeeo_match.engine as engine

        cap = None if remote_cap.lower() == "none" else int(remote_cap)
        engine.solve_priced = functools.partial(engine.solve_priced, remote_cap=cap)  # type: ignore[assignment]
    t0 = time.time()
    where = machine.describe()  # before the run: the commit whose code it runs
    r = run(label, lambda kw=kw: km.synth.france(seed=0, rules="flow", **kw))
    if full:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as ex:
            r["full_graph"] = ex.submit(full_graph, kw).result()
    r.update(command=command, machine=where, wall_seconds=time.time() - t0, load_average=os.getloadavg()[0])
    record_run(out, r, ("instance",))
    return (f"{label}: {r['status']} {r['objective']:,.0f} h, {r['seconds_after_generate']:.1f} s after generation, "
            f"peak {r['peak_rss_bytes'] / 2**30:.2f} GiB, {r['violations']} violation(s)")


if __name__ == "__main__":
    raise SystemExit(main())


def section(doc: dict, rel: str, full: dict | None = None) -> list[str]:
    """The docs/benchmarks.md section of ``benchmarks/results/priced.json``; ``full`` maps an
    instance label to the cap experiment's run of its full graph built whole (results.json)."""
    L: list[str] = []
    w = L.append
    w("## Exact at every scale: pricing (`benchmarks.priced`)")
    w("")
    w(f"From `{rel}`. The library's default exact route (`km.pipeline.run(..., method=\"auto\", top_k=None)`): "
      "min-cost flow over the implicit full graph by pricing (docs/solvers.md, \"Exact at every scale: "
      "pricing\"), on `km.synth.france(seed=0, ..., rules=\"flow\")`. *eligible arcs*: the full graph's size "
      "estimated from a sample of 2,048 employees (`km.estimate_arcs`, ± its standard error), never built; "
      "*materialised*: the arcs the solve ever held. *seconds*: candidates (the start graph) + solve + "
      "check + metrics, after generation.")
    w("")
    w("| instance | status | certified | hours | rounds | materialised | eligible arcs (estimate) | share | "
      "seconds | peak RSS GiB | violations | run |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in doc.get("runs", []):
        pr = r.get("pricing") or {}
        m = r.get("machine") or {}
        w(f"| {r['instance']} | {r.get('status')} | {'yes' if pr.get('certified') else 'no'} | "
          f"{r.get('objective', 0):,.0f} | {pr.get('rounds', '–')} | {pr.get('arcs_materialised', 0):,} | "
          f"{r.get('eligible_arcs_estimate', 0):,} ± {r.get('eligible_arcs_standard_error', 0):,.0f} | "
          f"{100 * r.get('materialised_share', 0):.2f} % | {r.get('seconds_after_generate', 0):.1f} | "
          f"{r.get('peak_rss_bytes', 0) / 2**30:.2f} | {r.get('violations')} | "
          f"{m.get('date_utc', '?')}, {m.get('cores', '?')} cores, load {r.get('load_average', 0):.1f} |")
    w("")
    for r in doc.get("runs", []):
        # the same run's full graph (same machine, same day) when it has one, else the cap experiment's
        f, where = r.get("full_graph"), "`--full`, in a process of its own, the same run"
        if f is None:
            f, where = (full or {}).get(r["instance"]), "the cap experiment above"
        if f is None:
            continue
        pr = r.get("pricing") or {}
        w(f"- {r['instance']} against its full graph built whole ({where}, "
          f"{f['arcs']:,} arcs, {f['objective']:,.0f} h, {f['seconds']:.1f} s, {f['peak'] / 2**30:.2f} GiB): "
          f"{100 * r['objective'] / f['objective']:.2f} % of its optimum (proven for the whole problem), in "
          f"{100 * r['seconds_after_generate'] / f['seconds']:.0f} % of its time and "
          f"{100 * r['peak_rss_bytes'] / f['peak']:.0f} % of its peak memory, with "
          f"{100 * pr.get('arcs_materialised', 0) / f['arcs']:.1f} % of its arcs materialised.")
    w("")
    for r in doc.get("runs", []):
        w(f"- {r['instance']}: `{r.get('command', '')}`; per round (solve s, scan s): "
          + ", ".join(f"({a:.1f}, {b:.1f})" for a, b in (r.get("pricing_round_seconds") or [])) + ".")
    w("")
    return L
