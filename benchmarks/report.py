"""Regenerate docs/benchmarks.md and its plots from benchmarks/results/results.json.

    python -m benchmarks.report [--results benchmarks/results/results.json] [--doc docs/benchmarks.md]

Every number in the document is read from the JSON (or computed from numbers in it:
sums of stage times, ratios, shares); nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable
from typing import Any

from .common import CAP_INSTANCES, DESCRIPTION, METHODS, NATIONAL, repo_root, size_label

GiB = 2**30
PIPE = ("candidates", "solve", "check", "metrics")
STYLE = {  # colour, marker
    "koeeo-flow": ("#d62728", "o"),
    "koeeo-auto": ("#ff9896", "s"),
    "mcf-peer": ("#1f77b4", "^"),
    "mcf-peer-plain": ("#aec7e8", "v"),
    "cpsat": ("#9467bd", "D"),
    "scipy-matching": ("#2ca02c", "P"),
    "networkx": ("#8c564b", "X"),
    "greedy": ("#7f7f7f", "<"),
    "fcfs": ("#bcbd22", ">"),
}


# ---------------------------------------------------------------- figures from one run
def stage_s(r: dict[str, Any], *names: str) -> float | None:
    st = r.get("stages")
    if not st:
        return None
    got = [s["seconds"] for s in st if s["name"] in names]
    return sum(got) if got else None


def peak_rss(r: dict[str, Any]) -> int | None:
    """Largest single process of the run: max(ru_maxrss self, ru_maxrss children)."""
    if "ru_maxrss_self_bytes" not in r:
        return None
    return max(r.get("ru_maxrss_self_bytes") or 0, r.get("ru_maxrss_children_bytes") or 0)


def ok(r: dict[str, Any] | None) -> bool:
    return bool(r) and r.get("status") == "ok"


# ---------------------------------------------------------------- formatting
def f_s(x: float | None) -> str:
    if x is None:
        return "–"
    if x < 0.01:
        return f"{x:.4f}"
    if x < 1:
        return f"{x:.3f}"
    if x < 100:
        return f"{x:.2f}"
    return f"{x:,.0f}"


def f_gib(x: int | float | None) -> str:
    return "–" if x is None else f"{x / GiB:.2f}"


def f_h(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def f_pct(x: float | None, nd: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{nd}f} %"


def f_gap(x: float | None) -> str:
    if x is None:
        return "–"
    return "0" if x == 0 else f"{100 * x:.3f} %"


def table(header: list[str], rows: Iterable[list[str]], align: str | None = None) -> list[str]:
    align = align or ("l" + "r" * (len(header) - 1))
    sep = ["---:" if a == "r" else ":---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# ---------------------------------------------------------------- plots
def _legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left")


def _plots(doc: dict[str, Any], img_dir: str, rel: str) -> dict[str, str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        return {}
    os.makedirs(img_dir, exist_ok=True)
    runs = [r for r in doc["runs"] if r.get("experiment") == "scaling"]
    out: dict[str, str] = {}

    def series(method: str, fn) -> tuple[list[int], list[float]]:
        pts = sorted((r["size"], fn(r)) for r in runs if r["method"] == method and ok(r) and fn(r))
        return [p[0] for p in pts], [p[1] for p in pts]

    def per_method(ax, fn, ylabel: str, title: str) -> None:
        for m in METHODS:
            x, y = series(m, fn)
            if x:
                c, mk = STYLE[m]
                ax.plot(x, y, marker=mk, color=c, label=m, lw=2 if m == "koeeo-flow" else 1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("employees")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    per_method(axes[0], lambda r: stage_s(r, "solve"), "seconds", "solve stage")
    per_method(axes[1], lambda r: stage_s(r, *PIPE), "seconds", "candidates + solve + check + metrics")
    _legend(axes[1])
    fig.suptitle(f"Time against size (top_k={doc['config']['top_k']}, same arcs for every method)")
    fig.tight_layout()
    fig.savefig(os.path.join(img_dir, "bench_time.png"), dpi=110)
    plt.close(fig)
    out["time"] = f"{rel}/bench_time.png"

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    per_method(axes[0], lambda r: (peak_rss(r) or 0) / GiB or None, "GiB",
               "peak RSS, largest process (ru_maxrss self / children)")
    per_method(axes[1], lambda r: (r.get("group_peak_pss_bytes") or 0) / GiB or None, "GiB",
               "peak PSS summed over the run's processes (sampled)")
    _legend(axes[1])
    fig.suptitle("Memory against size")
    fig.tight_layout()
    fig.savefig(os.path.join(img_dir, "bench_memory.png"), dpi=110)
    plt.close(fig)
    out["memory"] = f"{rel}/bench_memory.png"

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in ("koeeo-flow", "greedy", "fcfs"):
        c, mk = STYLE[m]
        x, y = series(m, lambda r: r["objective"] / r["instance"]["supply_hours"])
        axes[0].plot(x, [100 * v for v in y], marker=mk, color=c, label=m)
        x, y = series(m, lambda r: r["metrics"]["missions_filled_share"])
        axes[1].plot(x, [100 * v for v in y], marker=mk, color=c, label=m)
    for ax, t in zip(axes, ("hours assigned, % of the hours supplied", "missions filled (every seat), %")):
        ax.set_xscale("log")
        ax.set_xlabel("employees")
        ax.set_title(t, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=9)
    fig.suptitle("Quality: the optimiser against greedy and first-come-first-served (same arcs)")
    fig.tight_layout()
    fig.savefig(os.path.join(img_dir, "bench_quality.png"), dpi=110)
    plt.close(fig)
    out["quality"] = f"{rel}/bench_quality.png"

    cap = [r for r in doc["runs"] if r.get("experiment") == "cap"]
    if cap:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for key, c in zip(CAP_INSTANCES, ("#d62728", "#1f77b4")):
            rs = [r for r in cap if r["instance_key"] == key and ok(r)]
            capped = sorted((r for r in rs if r["top_k"] is not None), key=lambda r: r["top_k"])
            full = next((r for r in rs if r["top_k"] is None and r["method"] == "koeeo-flow"), None)
            priced = next((r for r in rs if r["method"] == "koeeo-priced"), None)
            if not capped:
                continue
            x = [r["top_k"] for r in capped]
            lab = CAP_INSTANCES[key]["label"]
            sup = capped[0]["instance"]["supply_hours"]
            axes[0].plot(x, [100 * r["objective"] / sup for r in capped], marker="o", color=c, label=lab)
            if full:
                axes[0].axhline(100 * full["objective"] / sup, color=c, ls="--", lw=1, label=f"{lab}: full graph")
            axes[1].plot(x, [stage_s(r, *PIPE) for r in capped], marker="o", color=c, label=lab)
            if full:
                axes[1].axhline(stage_s(full, *PIPE), color=c, ls="--", lw=1, label=f"{lab}: full graph")
            if priced:
                axes[1].axhline(stage_s(priced, *PIPE), color=c, ls=":", lw=1.5, label=f"{lab}: priced (exact)")
        axes[0].set_title("hours assigned, % of the hours supplied", fontsize=10)
        axes[1].set_title("candidates + solve + check + metrics, seconds", fontsize=10)
        axes[1].set_yscale("log")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xticks(sorted({r["top_k"] for r in cap if r["top_k"] is not None}))
            ax.set_xticklabels([str(k) for k in sorted({r["top_k"] for r in cap if r["top_k"] is not None})])
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xlabel("top_k (arcs kept per employee and per mission)")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8, loc="lower right")
        fig.suptitle("What the top-k cap costs (method flow)")
        fig.tight_layout()
        fig.savefig(os.path.join(img_dir, "bench_cap.png"), dpi=110)
        plt.close(fig)
        out["cap"] = f"{rel}/bench_cap.png"
    return out


# ---------------------------------------------------------------- the document
def render(doc: dict[str, Any], images: dict[str, str], results_rel: str,
           every_rule: list[tuple[str, dict[str, Any]]] | None = None,
           heuristics: tuple[str, dict[str, Any]] | None = None,
           priced: tuple[str, dict[str, Any]] | None = None,
           mip: tuple[str, dict[str, Any]] | None = None) -> str:
    cfg, mach = doc["config"], doc["machine"]
    runs = [r for r in doc["runs"] if r.get("experiment") == "scaling"]
    sizes = sorted({r["size"] for r in runs})
    by = {(r["size"], r["method"]): r for r in runs}
    L: list[str] = []
    w = L.append

    w("# Benchmarks")
    w("")
    w(f"Generated by `python -m benchmarks.report` from `{results_rel}`, which was produced by")
    w("")
    w("```bash")
    w(doc["command"])
    w("```")
    w("")
    w(f"(run from the repository root; started {doc.get('started_utc', '?')}, finished "
      f"{doc.get('finished_utc', 'not finished')}). Do not edit this file by hand: rerun the command, or "
      "`python -m benchmarks.report` to redraw it from the JSON.")
    w("")
    w("Every run below dated before 2026-12-04 counted a remote mission done in person (by a volunteer who is "
      "not `remote_ok`, within `max_km`) as 0 km, in `mean_km`, `co2_kg` and the travel terms of the policies; "
      "since then it counts its km (DESIGN.md §4). Hours and the rest are unchanged by it; those figures are "
      "1 to 9 % lower than a re-run would give (9 % on `mean_km` of the 3,000-volunteer row, 4–8 % on "
      "Ille-et-Vilaine's `pipeline` and the 300-volunteer Bretagne example, docs/cli.md; measured by hand "
      "when the change landed, not recorded in a results file).")
    w("")
    w("## Machine")
    w("")
    mem = mach.get("memory_bytes")
    rows = [
        ["CPU", f"{mach.get('cpu_model')}"],
        ["cores available", f"{mach.get('cores')}"],
        ["memory", "–" if mem is None else f"{mem / GiB:.1f} GiB"],
        ["OS", f"{mach.get('os')}"],
        ["Python", f"{mach.get('python')}"],
        ["numpy / scipy / ortools / networkx",
         f"{mach.get('numpy')} / {mach.get('scipy')} / {mach.get('ortools')} / {mach.get('networkx')}"],
        ["koeeo_match", f"{mach.get('koeeo_match')}"
         + (f" (commit {mach['koeeo_match_commit'][:12]})" if mach.get("koeeo_match_commit") else "")],
        ["date (UTC)", f"{mach.get('date_utc')}"],
    ]
    code = doc.get("code") or {}
    if code:
        shas = {(r.get("code") or {}).get("src_sha256") for r in doc["runs"] if r.get("status") not in ("skipped",)}
        shas.discard(None)
        same = shas == {code.get("src_sha256")}
        rows.append(["library source",
                     "`src/koeeo_match` "
                     f"{'frozen in a copy at the start (every run imported it)' if code.get('snapshot') else 'live'}, "
                     f"sha256 {str(code.get('src_sha256'))[:16]}…; HEAD was {str(code.get('commit_at_start'))[:12]} "
                     "(the working tree may hold uncommitted changes); "
                     + ("all runs used this source" if same else f"**runs used {len(shas)} different sources**")])
    L += table(["", ""], rows, "ll")
    w("")
    w("The machine is shared: each run records the 1-minute load average before it started "
      "(`load_average_before` in the JSON).")
    w("")

    # ------------------------------------------------------------ setup
    w("## What is measured")
    w("")
    w(f"- **Instances**: `{cfg['instance']}` for n in "
      + ", ".join(f"{size_label(n)}" for n in cfg["sizes"])
      + f" employees; the national instance is n = {NATIONAL:,} (20 M hours of supply, one 7 h day each). "
      "`rules=\"flow\"`: every mission lasts 7 h, no team minimums, no employer day caps or budgets; "
      "`max_per_employer` (3 per employer on team-day missions) stays.")
    w(f"- **Same arcs for every method**: each run builds `{cfg['candidate_graph']}` (`TOP_K = {cfg['top_k']}`: "
      "each employee's 5 best arcs and each mission's 5 best arcs, union). The graph is deterministic, so every "
      "method of a size solves the same arcs; objectives are comparable and \"gap\" means the gap on that graph. "
      "The cap experiment below measures what the cap costs against the full graph.")
    w("- **Objective**: the `max_hours` primary objective, i.e. the hours of the selected arcs, computed the same "
      "way for every method (ties between equal-hours solutions are broken by skill fit then distance in every "
      "exact method's arc scores). **bound / gap**: on the candidate graph (a flow or matching is optimal there; "
      "CP-SAT's bound comes from its own proof; greedy and fcfs give none).")
    w("- **Isolation**: each (size, method) runs in a fresh `python -m benchmarks.one` process. Stages "
      "(generate, candidates, solve, check, metrics) are timed separately; each stage's peak RSS is sampled every "
      "20 ms (as `km.pipeline.run` does). **Peak RSS** below is the largest single process of the run: "
      "max(`ru_maxrss` of the run, `ru_maxrss` of its largest child); forked flow workers share their parent's "
      "pages, so the suite also samples the **PSS summed over the run's process group** (its physical "
      "footprint; `group_peak_pss_bytes`). "
      f"A run over {cfg['max_seconds']:g} s (`--max-seconds`) is killed and recorded as `timeout`; one over "
      f"{cfg['max_rss_gib']:g} GiB PSS (`--max-rss-gib`, or the memory then available less 2 GiB) as "
      "`out of memory`. A peer that clearly cannot finish at a size is not run there and is recorded as "
      "`skipped: too large` (with the reason).")
    tls = sorted({(r["size"], r["time_limit"]) for r in runs
                  if r["method"] == "cpsat" and r.get("time_limit") and r.get("status") != "skipped"})
    if tls:
        w("- **CP-SAT time limit**: " + ", ".join(f"{size_label(n)}: {t:g} s" for n, t in tls) + " (2 workers).")
    w("- **check**: every solution is verified by `km.check` (independent checker); **violations** counts what it "
      "reports and must be 0.")
    w("")
    w("Methods:")
    w("")
    for m in cfg["methods"]:
        w(f"- `{m}`: {DESCRIPTION.get(m, cfg.get('method_descriptions', {}).get(m, ''))}.")
    w("")

    # ------------------------------------------------------------ targets
    flow_nat = by.get((NATIONAL, "koeeo-flow"))
    w("## The national instance against the targets")
    w("")
    if not ok(flow_nat):
        w(f"The national instance was not run in this suite (or did not finish: "
          f"{(flow_nat or {}).get('status', 'not run')}). The targets are assessed when it is.")
        w("")
    L += _targets(by, sizes, cfg)
    w("")

    # ------------------------------------------------------------ quality
    L += _quality(by, sizes)

    # ------------------------------------------------------------ plots
    if images:
        w("## Plots")
        w("")
        if "time" in images:
            w(f"![time against size]({images['time']})")
            w("")
        if "memory" in images:
            w(f"![memory against size]({images['memory']})")
            w("")
        if "quality" in images:
            w(f"![quality against the baselines]({images['quality']})")
            w("")

    # ------------------------------------------------------------ per size
    w("## Results by size")
    w("")
    w("*status*: `optimal on graph` = proven optimal on the candidate graph (koeeo_match itself reports "
      "`feasible` with `graph_optimal=True` whenever `top_k` is set, as the full problem's optimum is not proven). "
      "Times in seconds. *pipeline* = candidates + solve + check + metrics (generation excluded). "
      "*vs flow* = objective / koeeo-flow's objective on the same arcs. Peak RSS and PSS in GiB. *load*: the "
      "machine's 1-minute load average when the run started (2 cores; other users' work included).")
    w("")
    for n in sizes:
        first = next((by[(n, m)] for m in METHODS if ok(by.get((n, m)))), None)
        inst = (first or {}).get("instance", {})
        w(f"### national ({n:,} employees)" if n == NATIONAL else f"### {size_label(n)} employees")
        w("")
        if inst:
            w(f"{inst['employees']:,} employees, {inst['missions']:,} missions ({inst.get('seats', 0):,} seats), "
              f"{inst['supply_hours']:,.0f} h supplied, {inst['demand_hours']:,.0f} h demanded; "
              f"candidate graph: {inst['arcs']:,} arcs.")
            w("")
        ref = by.get((n, "koeeo-flow"))
        rows = []
        for m in METHODS:
            r = by.get((n, m))
            if r is None:
                continue
            if not ok(r):
                why = r.get("reason", "")
                rows.append([f"`{m}`", why if why.startswith(r["status"]) else f"{r['status']}: {why}".rstrip(": ")])
                continue
            met = r["metrics"]
            vs = (r["objective"] / ref["objective"]) if ok(ref) and ref["objective"] else None
            viol = str(r["violations"])
            if r.get("repaired"):
                viol += f" ({', '.join(r.get('violation_rules', []))})"
            rows.append([
                f"`{m}`", ("relaxation optimum (infeasible)" if r.get("graph_optimal") and r["violations"]
                           else "optimal on graph" if r.get("graph_optimal")
                           else str(r.get("solver_status", "")).lower()),
                f_s(stage_s(r, "generate")), f_s(stage_s(r, "candidates")),
                f_s(stage_s(r, "solve")), f_s(stage_s(r, "check")), f_s(stage_s(r, "metrics")),
                f_s(stage_s(r, *PIPE)), f_gib(peak_rss(r)), f_gib(r.get("group_peak_pss_bytes")),
                f_h(r["objective"]), f_h(r.get("bound")), f_gap(r.get("gap")),
                "–" if vs is None else f"{100 * vs:.2f} %",
                f_pct(met.get("missions_filled_share")), "–" if met.get("mean_km") is None else f"{met['mean_km']:.2f}",
                f_pct(met.get("employees_assigned_share")) + f" / {viol}",
                "–" if r.get("load_average_before") is None else f"{r['load_average_before']:.1f}",
            ])
        hdr = ["method", "status", "gen", "cand.", "solve", "check", "metrics", "pipeline", "peak RSS", "PSS",
               "objective (h)", "bound (h)", "gap", "vs flow", "missions filled", "mean km",
               "employees placed / violations", "load"]
        # non-ok rows: status text spans; pad to header width
        rows = [r + [""] * (len(hdr) - len(r)) if len(r) < len(hdr) else r[: len(hdr)] for r in rows]
        L += table(hdr, rows, "ll" + "r" * (len(hdr) - 2))
        w("")
        rep = [(m, by[(n, m)]) for m in METHODS if ok(by.get((n, m))) and by[(n, m)].get("repaired")]
        for m, r in rep:
            rp = r["repaired"]
            w(f"- `{m}` breaks `max_per_employer` {r['violations']} time(s) (its objective, {f_h(r['objective'])} h, "
              f"is that of a relaxation). Dropping the lowest-score extras of each over-cap (mission, employer) "
              f"leaves a feasible solution of {f_h(rp['objective'])} h ({rp['violations']} violations), "
              + (f"{100 * rp['objective'] / ref['objective']:.2f} % of koeeo-flow's."
                 if ok(ref) and ref["objective"] else "."))
        if rep:
            w("")

    # ------------------------------------------------------------ cap experiment
    L += _cap(doc, images)

    # ------------------------------------------------------------ pricing (benchmarks.priced)
    if priced is not None:
        from .priced import section as priced_section

        full = {}
        for key, label in (("dep35", "département 35"), ("bretagne", "region Bretagne")):
            f = next((r for r in doc["runs"] if r.get("experiment") == "cap" and r.get("instance_key") == key
                      and r["top_k"] is None and r["method"] == "koeeo-flow" and ok(r)), None)
            if f is not None:
                full[label] = {"arcs": f["instance"]["arcs"], "objective": f["objective"],
                               "seconds": stage_s(f, *PIPE), "peak": peak_rss(f)}
        L += priced_section(priced[1], priced[0], full)

    # ------------------------------------------------------------ every rule (benchmarks.every_rule)
    for i, er in enumerate(every_rule or []):
        L += _every_rule(er, heading=i == 0)

    # ------------------------------------------------------------ greedy and fcfs (benchmarks.heuristics)
    if heuristics is not None:
        from .heuristics import section

        L += section(heuristics[1], heuristics[0])

    # ------------------------------------------------------------ auto, a plain MIP, cpsat (benchmarks.mip)
    if mip is not None:
        from .mip import section as mip_section

        L += mip_section(mip[1], mip[0])

    # ------------------------------------------------------------ notes
    w("## Reproducing")
    w("")
    w("```bash")
    w("python -m benchmarks --quick          # 1k-30k, a few minutes")
    w("python -m benchmarks                  # 1k to national, then this document")
    w("python -m benchmarks.one --size 100000 --method koeeo-flow --json -   # one run")
    w("python -m benchmarks.heuristics --label after   # flow, greedy, fcfs nationally, one process each")
    w("python -m benchmarks.mip --time-limit 60        # auto, a plain MIP and cpsat, every rule, 300-20k")
    w("python -m benchmarks.report           # redraw this document from the JSON")
    w("```")
    w("")
    w(f"Raw results, with every stage's time and peak RSS and each run's log path: `{results_rel}`.")
    w("")
    return "\n".join(L)


def _targets(by: dict, sizes: list[int], cfg: dict) -> list[str]:
    L: list[str] = []
    nat = by.get((NATIONAL, "koeeo-flow"))
    rows = []

    def verdict(b: bool | None) -> str:
        return "–" if b is None else ("**met**" if b else "**missed**")

    if ok(nat):
        g = stage_s(nat, "generate")
        rows.append(["generation ≤ 60 s", f"{f_s(g)} s", verdict(g <= 60)])
        p = stage_s(nat, *PIPE)
        parts = ", ".join(f"{s} {f_s(stage_s(nat, s))} s" for s in PIPE)
        rows.append(["candidates + solve + check + metrics ≤ 120 s",
                     f"{f_s(p)} s ({parts}; load average {nat.get('load_average_before', 0):.1f} "
                     "on 2 cores when it started)",
                     verdict(p <= 120)])
        pk = peak_rss(nat)
        pss = nat.get("group_peak_pss_bytes")
        rows.append(["peak RSS ≤ 8 GiB",
                     f"{f_gib(pk)} GiB largest process (run {f_gib(nat.get('ru_maxrss_self_bytes'))} GiB, "
                     + (f"largest worker {f_gib(nat.get('ru_maxrss_children_bytes'))} GiB"
                        if nat.get("ru_maxrss_children_bytes") else "no worker process")
                     + f"); {f_gib(pss)} GiB PSS of all its processes; solve stage peak "
                     f"{f_gib(next((x['peak_rss_bytes'] for x in nat['stages'] if x['name'] == 'solve'), None))} GiB",
                     verdict(pk <= 8 * GiB) + ("" if pss is None or (pss <= 8 * GiB) == (pk <= 8 * GiB)
                                                else f" (PSS total: {'met' if pss <= 8 * GiB else 'missed'})")])
        rows.append(["gap 0 on its candidate graph",
                     f"gap {f_gap(nat.get('gap'))}, status {nat.get('solver_status')}, "
                     f"graph optimal: {nat.get('graph_optimal')}, "
                     f"{nat['violations']} violations",
                     verdict(nat.get("gap") == 0 and bool(nat.get("graph_optimal")) and nat["violations"] == 0)])
    else:
        for t in ("generation ≤ 60 s", "candidates + solve + check + metrics ≤ 120 s", "peak RSS ≤ 8 GiB",
                  "gap 0 on its candidate graph"):
            rows.append([t, "national run: " + ((nat or {}).get("status") or "not run"), "–"])

    # as fast as the monolithic flow peer at every size (solve stage; same arcs, same graph code before it)
    cmp, slower, missing = [], [], []
    for n in sizes:
        a, b = by.get((n, "koeeo-flow")), by.get((n, "mcf-peer"))
        if ok(a) and ok(b):
            ta, tb = stage_s(a, "solve"), stage_s(b, "solve")
            cmp.append((n, ta, tb))
            if ta > tb:
                slower.append((n, ta, tb))
        elif ok(a):
            missing.append((n, (b or {}).get("status", "not run")))
    if cmp:
        txt = "; ".join(f"{size_label(n)}: {f_s(ta)} vs {f_s(tb)} s" for n, ta, tb in cmp)
        if slower:
            txt += ". Slower at " + ", ".join(f"{size_label(n)} ({tb / ta:.2f}×)" if ta else size_label(n)
                                             for n, ta, tb in slower)
        if missing:
            txt += ". Peer not measured at " + ", ".join(f"{size_label(n)} ({s})" for n, s in missing)
        rows.append(["koeeo as fast as the monolithic flow peer (`mcf-peer`) at every size "
                     "(solve stage, koeeo vs peer)",
                     txt, verdict(not slower)])
    # >= 50x faster than CP-SAT at 100k with the same objective
    a, c = by.get((100_000, "koeeo-flow")), by.get((100_000, "cpsat"))
    name = "≥ 50× faster than monolithic CP-SAT at 100k with the same objective (solve stage)"
    if ok(a) and ok(c):
        ta, tc = stage_s(a, "solve"), stage_s(c, "solve")
        pt, pc = stage_s(a, *PIPE), stage_s(c, *PIPE)
        tl = c.get("time_limit")
        stopped = c.get("solver_status") != "optimal"
        if c["objective"] == a["objective"]:
            how = "same objective"
        elif c["objective"] < a["objective"]:
            how = (f"CP-SAT {100 * (1 - c['objective'] / a['objective']):.1f} % lower"
                   + (f", stopped by its {tl:g} s time limit (gap {f_gap(c.get('gap'))} on the hours)"
                      if stopped else ""))
        else:
            how = "CP-SAT higher (koeeo not optimal on the graph?)"
        txt = (f"koeeo-flow solve {f_s(ta)} s vs CP-SAT {f_s(tc)} s = **{tc / ta:,.0f}×**; objective "
               f"{f_h(a['objective'])} h vs {f_h(c['objective'])} h ({how}); whole pipeline "
               f"{f_s(pt)} vs {f_s(pc)} s = {pc / pt:,.0f}×")
        if c["objective"] == a["objective"]:
            v = verdict(tc / ta >= 50)
        elif c["objective"] < a["objective"]:
            # CP-SAT needs more than tc to reach koeeo's objective: tc / ta is a lower bound on the speed-up
            v = verdict(tc / ta >= 50) + (" (CP-SAT never reached koeeo's objective: the ratio is a lower bound)"
                                          if tc / ta >= 50 else "")
        else:
            v = verdict(False)
        rows.append([name, txt, v])
    else:
        rows.append([name, f"koeeo-flow: {(a or {}).get('status', 'not run')}, "
                     f"cpsat: {(c or {}).get('status', 'not run')}", "–"])
    # scaling
    b = by.get((300_000, "koeeo-flow"))
    if ok(nat) and ok(b):
        tn, tb = stage_s(nat, *PIPE), stage_s(b, *PIPE)
        sn, sb = stage_s(nat, "solve"), stage_s(b, "solve")
        rows.append(["time(3M) / time(300k) ≤ 15 (koeeo-flow, candidates→metrics)",
                     f"{f_s(tn)} / {f_s(tb)} s = {tn / tb:.1f} (solve alone: {f_s(sn)} / {f_s(sb)} s = {sn / sb:.1f}; "
                     f"employees ×{nat['instance']['employees'] / b['instance']['employees']:.2f}, arcs "
                     f"×{nat['instance']['arcs'] / b['instance']['arcs']:.2f}; load averages "
                     f"{nat.get('load_average_before', 0):.1f} and {b.get('load_average_before', 0):.1f})",
                     verdict(tn / tb <= 15) + (" (by a small margin: within run-to-run noise on a shared machine)"
                                               if 0.9 * 15 <= tn / tb <= 15 else "")])
    else:
        rows.append(["time(3M) / time(300k) ≤ 15", "needs the 300k and national koeeo-flow runs", "–"])
    L += table(["target", "measured", "verdict"], rows, "lll")
    L.append("")
    return L


def _quality(by: dict, sizes: list[int]) -> list[str]:
    L: list[str] = []
    w = L.append
    w("## The optimiser against today's first-come-first-served")
    w("")
    nat = [n for n in sizes if ok(by.get((n, "koeeo-flow"))) and ok(by.get((n, "fcfs")))]
    if nat:
        n = NATIONAL if NATIONAL in nat else max(nat)
        a, f = by[(n, "koeeo-flow")], by[(n, "fcfs")]
        dh = a["objective"] - f["objective"]
        ma, mf = a["metrics"]["missions_filled_share"], f["metrics"]["missions_filled_share"]
        ea, ef = a["metrics"]["employees_assigned_share"], f["metrics"]["employees_assigned_share"]
        w(f"On the {'national instance' if n == NATIONAL else size_label(n) + ' instance (largest run so far)'} "
          f"({a['instance']['employees']:,} employees, {a['instance']['supply_hours']:,.0f} h supplied), on the same "
          f"arcs, the optimiser places **{f_h(a['objective'])} h** against **{f_h(f['objective'])} h** for "
          f"first-come-first-served: **+{f_h(dh)} h (+{100 * dh / f['objective']:.1f} %)**. Missions filled (every "
          f"seat): **{f_pct(ma)}** against **{f_pct(mf)}** ({100 * (ma - mf):+.1f} points); employees placed "
          f"{f_pct(ea)} against {f_pct(ef)}; mean distance {a['metrics']['mean_km']:.2f} km against "
          f"{f['metrics']['mean_km']:.2f} km.")
        w("")
    rows = []
    for n in sizes:
        cells = [size_label(n)]
        for m in ("koeeo-flow", "greedy", "fcfs"):
            r = by.get((n, m))
            cells.append(f_h(r["objective"]) if ok(r) else "–")
        for m in ("koeeo-flow", "greedy", "fcfs"):
            r = by.get((n, m))
            cells.append(f_pct(r["metrics"]["missions_filled_share"]) if ok(r) else "–")
        a, f = by.get((n, "koeeo-flow")), by.get((n, "fcfs"))
        cells.append(f"+{100 * (a['objective'] - f['objective']) / f['objective']:.1f} %"
                     if ok(a) and ok(f) and f["objective"] else "–")
        rows.append(cells)
    L += table(["size", "hours: koeeo-flow", "greedy", "fcfs", "missions filled: koeeo-flow", "greedy", "fcfs",
                "hours gain vs fcfs"], rows)
    w("")
    return L


def _cap(doc: dict[str, Any], images: dict[str, str]) -> list[str]:
    L: list[str] = []
    w = L.append
    cap = [r for r in doc["runs"] if r.get("experiment") == "cap"]
    if not cap:
        return L
    w("## The cap experiment: what top-k costs")
    w("")
    w("Method `koeeo-flow` (`km.pipeline.run(..., method=\"flow\", top_k=k)`) on "
      "`km.synth.france(seed=0, departement=\"35\", rules=\"flow\")` and on the same with `region=\"Bretagne\"`, "
      "for k in 2, 3, 5, 10, 20 and the full graph built whole (`full`: every eligible pair, the optimum of the "
      "problem itself); and the library's default exact route (`priced`: `top_k=None`, pricing over the implicit "
      "full graph, see docs/solvers.md, \"Exact at every scale: pricing\"): *arcs* are then the arcs materialised.")
    w("")
    rows = []
    findings = []
    priced_lines: list[str] = []
    for key, inst in CAP_INSTANCES.items():
        rs = [r for r in cap if r["instance_key"] == key]
        if not rs:
            continue
        full = next((r for r in rs if r["top_k"] is None and r["method"] == "koeeo-flow"), None)
        fobj = full["objective"] if ok(full) else None
        for r in sorted(rs, key=lambda r: (r["top_k"] is None, r["method"] == "koeeo-priced", r["top_k"] or 0)):
            k = ("priced" if r["method"] == "koeeo-priced" else "full") if r["top_k"] is None else str(r["top_k"])
            if not ok(r):
                rows.append([inst["label"], k, f"{r['status']}: {r.get('reason', '')}", "", "", "", "", "", ""])
                continue
            rows.append([
                inst["label"], k, f"{r['instance']['arcs']:,}", f_h(r["objective"]),
                "–" if fobj is None else f"{100 * r['objective'] / fobj:.2f} %",
                f_s(stage_s(r, "candidates")), f_s(stage_s(r, "solve")), f_s(stage_s(r, *PIPE)),
                f"{f_gib(peak_rss(r))} / {f_gib(r.get('group_peak_pss_bytes'))}",
            ])
        capped = {r["top_k"]: r for r in rs if ok(r) and r["top_k"] is not None}
        findings.append((inst, full, capped))
        priced = next((r for r in rs if r["method"] == "koeeo-priced" and ok(r)), None)
        if priced is not None:
            pr = priced.get("pricing") or {}
            txt = (f"- {inst['label']}, priced (`top_k=None`, the default): {f_h(priced['objective'])} h, "
                   f"{'proven optimal for the whole problem' if pr.get('certified') else 'not certified'} after "
                   f"{pr.get('rounds', '?')} rounds, {priced['instance']['arcs']:,} arcs materialised, "
                   f"{f_s(stage_s(priced, *PIPE))} s and {f_gib(peak_rss(priced))} GiB")
            if ok(full):
                txt += (f": {100 * priced['objective'] / full['objective']:.2f} % of the full graph's optimum, in "
                        f"{100 * stage_s(priced, *PIPE) / stage_s(full, *PIPE):.0f} % of its time and "
                        f"{100 * peak_rss(priced) / peak_rss(full):.0f} % of its peak memory, with "
                        f"{100 * priced['instance']['arcs'] / full['instance']['arcs']:.1f} % of its arcs")
            priced_lines.append(txt + ".")
    L += table(["instance", "k", "arcs", "objective (h)", "of full graph", "candidates s", "solve s", "pipeline s",
                "peak RSS / PSS GiB"], rows, "llrrrrrrr")
    w("")
    if "cap" in images:
        w(f"![cap experiment]({images['cap']})")
        w("")
    # what the measurement supports
    w("**What the measurement supports.** ")
    for line in priced_lines:
        w(line)
    for inst, full, capped in findings:
        if not capped:
            continue
        if ok(full):
            parts = ", ".join(f"k={k}: {100 * r['objective'] / full['objective']:.1f} %"
                              for k, r in sorted(capped.items()))
            w(f"- {inst['label']}: the full graph ({full['instance']['arcs']:,} arcs) is optimal at "
              f"{f_h(full['objective'])} h in {f_s(stage_s(full, *PIPE))} s and {f_gib(peak_rss(full))} GiB; "
              "the capped "
              f"graphs keep {parts} of it.")
        else:
            best = max(capped)
            w(f"- {inst['label']}: the full graph did not fit: {full['status'] if full else 'not run'}"
              + (f" ({full.get('reason')})" if full and full.get("reason") else "")
              + f". The largest cap measured, k={best}, places {f_h(capped[best]['objective'])} h "
              f"({capped[best]['instance']['arcs']:,} arcs, {f_s(stage_s(capped[best], *PIPE))} s).")
    five = [(inst, capped[5], full) for inst, full, capped in findings if 5 in capped]
    if five:
        txt = "; ".join(
            f"{inst['label']}: {f_h(r5['objective'])} h"
            + (f", {100 * (1 - r5['objective'] / full['objective']):.1f} % below the full graph" if ok(full) else "")
            for inst, r5, full in five)
        w(f"- `TOP_K = 5` (the setting of the scaling runs, national included) places {txt}.")
    pairs = [(inst, capped[5], capped[10]) for inst, _, capped in findings if 5 in capped and 10 in capped]
    if pairs:
        gains = "; ".join(
            f"{inst['label']}: +{100 * (r10['objective'] / r5['objective'] - 1):.1f} % hours for "
            f"×{r10['instance']['arcs'] / r5['instance']['arcs']:.1f} arcs, "
            f"×{stage_s(r10, *PIPE) / stage_s(r5, *PIPE):.1f} "
            f"time and ×{peak_rss(r10) / peak_rss(r5):.1f} peak RSS"
            for inst, r5, r10 in pairs)
        w(f"- Going from k=5 to k=10: {gains}.")
    nat = next((r for r in doc["runs"] if r.get("experiment") == "scaling" and r.get("size") == NATIONAL
                and r["method"] == "koeeo-flow" and ok(r)), None)
    if nat:
        w(f"- At national scale the cap is not optional: the national run at k=5 ({nat['instance']['arcs']:,} arcs) "
          f"already peaks at {f_gib(peak_rss(nat))} GiB"
          + "".join(f", and the full graph of {i['label']} alone needs {f_gib(peak_rss(f))} GiB "
                    f"({f['instance']['arcs']:,} arcs)" for i, f, _ in findings
                    if i is CAP_INSTANCES["bretagne"] and ok(f)) + ".")
    fits = [inst["label"] for inst, full, _ in findings if ok(full)]
    fails = [(inst["label"], full) for inst, full, _ in findings if not ok(full)]
    if fits and not fails:
        w(f"- Hence the measurement supports the library default `top_k=None` (optimal for the problem itself: "
          f"the full graph, priced when it is large, see the pricing section below) over any cap "
          f"({', '.join(fits)}); a cap is an explicit speed knob, and then the largest k affordable, since every "
          "step up the table buys hours.")
    elif fits:
        w(f"- Hence the measurement supports the library default `top_k=None` (the full graph, optimal for the "
          f"problem itself) for instances the size of {', '.join(fits)}, but not beyond: the full graph of "
          + ", ".join(f"{lab} ({(f or {}).get('status', 'not run')})" for lab, f in fails)
          + " does not fit this machine, so regional and national instances need a cap — the largest k that fits "
          "the memory and time budget, since every step up the table buys hours.")
    else:
        w("- No full graph fitted: every instance measured here needs a cap; take the largest k that fits.")
    w("")
    return L


def _every_rule_targets(nat: dict[str, Any]) -> str:
    """Met / missed for each target of the every-rule issue (national scale only)."""
    if nat.get("scale") != 1.0:
        return "(national scale only)"
    gap, secs, rss = nat.get("graph_gap"), nat.get("seconds_after_generate"), nat.get("peak_rss_bytes")

    def ok(c: bool | None) -> str:
        return "?" if c is None else ("met" if c else "**missed**")

    return (f"feasible, 0 violations: {ok(nat.get('violations') == 0)}; "
            f"gap ≤ 1 %: {ok(None if gap is None else gap <= 0.01)}; "
            f"≤ 15 min after generation: {ok(None if secs is None else secs <= 900)}; "
            f"≤ 16 GiB: {ok(None if rss is None else rss <= 16 * 2**30)}")


def _every_rule(er: tuple[str, dict[str, Any]] | None, heading: bool = True) -> list[str]:
    """The section of ``python -m benchmarks.every_rule`` (its own JSON, next to results.json), if present."""
    L: list[str] = []
    if not er:
        return L
    rel, d = er
    w = L.append
    if heading:
        w("## Every rule at scale (`benchmarks.every_rule`)")
        w("")
    w(f"From `{rel}`, produced by `{d.get('command', '?')}` on {d.get('date', '?')} (a separate run: "
      "`rules=\"all\"`, team minimums, employer daily caps and budgets, mixed durations, 10 % of employees with "
      "2–3 days; `method=\"auto\"`).")
    w("")
    nat = d.get("national") or {}
    if nat:
        st = {x.get("name"): x for x in nat.get("stages", [])}
        met = nat.get("metrics") or {}
        rows = [
            ["instance", f"scale {nat.get('scale')}: {nat.get('employees', 0):,} employees, "
                         f"{nat.get('missions', 0):,} missions, "
                         f"{f_h(nat.get('supply_hours'))} h supplied; "
                         f"{nat.get('arcs', 0):,} arcs (top_k={nat.get('top_k')})"],
            ["method used / status", f"{nat.get('method')} / {nat.get('status')}"],
            ["generate s", f_s((st.get("generate") or {}).get("seconds"))],
            ["candidates + solve + check + metrics s", f_s(nat.get("seconds_after_generate"))],
            ["stages s", ", ".join(f"{k} {f_s(v.get('seconds'))}" for k, v in st.items())],
            ["peak RSS GiB", f_gib(nat.get("peak_rss_bytes"))],
            ["objective (h)", f_h(nat.get("objective"))],
            ["gap on the candidate graph",
             f_gap(nat.get("graph_gap"))
             + (f" (bound {f_h(nat.get('graph_bound'))} h)" if nat.get("graph_bound") is not None else "")],
            ["violations", str(nat.get("violations"))],
            ["hours: auto vs fcfs", f"{f_h(met.get('assigned_hours'))} vs {f_h(nat.get('fcfs_hours'))}"],
            ["targets of the every-rule issue", _every_rule_targets(nat)],
            ["missions filled: auto vs fcfs",
             f"{f_pct(met.get('missions_filled_share'))} vs {f_pct(nat.get('fcfs_missions_filled_share'))}"],
        ]
        L += table([f"every rule, scale {nat.get('scale')} of the national instance", ""], rows, "ll")
        w("")
    small = d.get("small") or []
    if small:
        rows = [[f"{r.get('employees', 0):,}", str(r.get("cpsat_status")), f_h(r.get("cpsat_objective")),
                 f_s(r.get("cpsat_seconds")),
                 str(r.get("auto_method")), str(r.get("auto_status")), f_h(r.get("auto_objective")),
                 f_h(r.get("auto_bound")),
                 f_s(r.get("auto_seconds")), str(r.get("violations"))] for r in small]
        L += table(["employees (Bretagne, every rule)", "CP-SAT status", "CP-SAT objective", "CP-SAT s", "auto method",
                    "auto status", "auto objective", "auto bound", "auto s", "violations"], rows)
        w("")
    return L


def main(argv: list[str] | None = None) -> int:
    root = repo_root()
    ap = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(root, "benchmarks", "results", "results.json"))
    ap.add_argument("--doc", default=os.path.join(root, "docs", "benchmarks.md"))
    ap.add_argument("--img", default=os.path.join(root, "docs", "img"), help="where the PNG plots go")
    a = ap.parse_args(argv)
    with open(a.results) as fh:
        doc = json.load(fh)
    doc_dir = os.path.dirname(os.path.abspath(a.doc))
    images = _plots(doc, a.img, os.path.relpath(os.path.abspath(a.img), doc_dir))
    every_rule = []
    for name in ("every_rule.json", "every_rule_national.json"):  # the 10 % run, then the national one
        er_path = os.path.join(os.path.dirname(os.path.abspath(a.results)), name)
        if os.path.exists(er_path):
            try:
                with open(er_path) as fh:
                    every_rule.append((os.path.relpath(er_path, root), json.load(fh)))
            except (OSError, json.JSONDecodeError):
                pass
    heuristics = None
    h_path = os.path.join(os.path.dirname(os.path.abspath(a.results)), "heuristics_national.json")
    if os.path.exists(h_path):
        with open(h_path) as fh:
            heuristics = (os.path.relpath(h_path, root), json.load(fh))
    priced = None
    p_path = os.path.join(os.path.dirname(os.path.abspath(a.results)), "priced.json")
    if os.path.exists(p_path):
        with open(p_path) as fh:
            priced = (os.path.relpath(p_path, root), json.load(fh))
    mip = None
    m_path = os.path.join(os.path.dirname(os.path.abspath(a.results)), "mip.json")
    if os.path.exists(m_path):
        with open(m_path) as fh:
            mip = (os.path.relpath(m_path, root), json.load(fh))
    text = render(doc, images, os.path.relpath(os.path.abspath(a.results), root), every_rule, heuristics, priced,
                  mip)
    with open(a.doc, "w") as fh:
        fh.write(text)
    print(f"wrote {os.path.relpath(a.doc, root)}"
          + (f" and {len(images)} plot(s) in {os.path.relpath(a.img, root)}" if images else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
