"""Time and peak memory of the sequential heuristics (greedy, fcfs) against the flow solve.

    python -m benchmarks.heuristics --label after            # run flow, greedy, fcfs nationally
    python -m benchmarks.heuristics --collect DIR --label before --commit SHA

Each method runs alone, in its own ``python -m benchmarks.one`` process under
``/usr/bin/time -v`` (one national process at a time: each needs several GiB);
``/usr/bin/time`` gives the process's peak RSS (``ru_maxrss``) and wall time,
``benchmarks.one`` the time and peak RSS of each stage.  ``--collect`` reads runs
made the same way elsewhere (``DIR/<label>-<method>.json`` and ``.time``), e.g.
with an older tree on ``PYTHONPATH``.  Runs are appended to ``--out`` under their
label; :func:`section` renders them for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from . import machine
from .common import NATIONAL, repo_root, size_label

METHODS = ("koeeo-flow", "greedy", "fcfs")
OUT = os.path.join("benchmarks", "results", "heuristics_national.json")


def parse_time(text: str) -> dict[str, Any]:
    """Peak RSS (bytes) and wall seconds from the report of ``/usr/bin/time -v``."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["max_rss_bytes"] = int(value) * 1024
        elif key.startswith("Elapsed (wall clock) time"):
            parts = [float(x) for x in value.split(":")]
            out["elapsed_seconds"] = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
        elif key == "Exit status":
            out["exit_status"] = int(value)
    return out


def read_run(json_path: str, time_path: str) -> dict[str, Any]:
    """One run: the stages of ``benchmarks.one`` and the totals of ``/usr/bin/time -v``."""
    with open(json_path) as fh:
        one = json.load(fh)
    with open(time_path) as fh:
        timed = parse_time(fh.read())
    stages = {s["name"]: {"seconds": s["seconds"], "peak_rss_bytes": s["peak_rss_bytes"]} for s in one["stages"]}
    return {"method": one["method"], "status": one["status"], "objective": one.get("objective"),
            "assignments": one.get("metrics", {}).get("assignments"), "src_sha256": one["code"]["src_sha256"],
            "stages": stages, **timed}


def run(method: str, size: int, workdir: str) -> dict[str, Any]:
    """Run ``method`` in a fresh process under ``/usr/bin/time -v``; returns :func:`read_run` of it."""
    base = os.path.join(workdir, method)
    cmd = ["/usr/bin/time", "-v", "-o", base + ".time", sys.executable, "-m", "benchmarks.one",
           "--size", str(size), "--method", method, "--json", base + ".json"]
    with open(base + ".log", "w") as log:
        subprocess.run(cmd, cwd=repo_root(), stderr=log, check=False)
    return {**read_run(base + ".json", base + ".time"), "command": " ".join(cmd[4:])}


def save(path: str, label: str, runs: list[dict[str, Any]], command: str, commit: str | None) -> None:
    doc: dict[str, Any] = {"schema": "koeeo-match-heuristics/1", "labels": {}}
    if os.path.exists(path):
        with open(path) as fh:
            doc = json.load(fh)
    doc["labels"][label] = {"machine": machine.describe(repo_root()), "commit": commit, "command": command,
                            "runs": runs}
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)


def _gib(x: int | None) -> str:
    return "–" if x is None else f"{x / 2**30:.2f}"


def section(doc: dict[str, Any], rel: str) -> list[str]:
    """Markdown for docs/benchmarks.md: one row per (label, method), measured numbers only."""
    how = (f"From `{rel}`: each method alone in its own process (`python -m benchmarks.one --size "
           f"{NATIONAL} --method M`, the national instance at `top_k=5`) under `/usr/bin/time -v`; *process peak "
           "RSS* is that process's `ru_maxrss`, *solve* the solve stage of `benchmarks.one` (its peak RSS sampled "
           "every 20 ms, and its rise over the peak of the candidates stage).")
    header = ("| label | commit | method | solve s | solve peak RSS GiB | solve rise GiB | process peak RSS GiB "
              "| wall s | assignments |")
    L = ["## Greedy and fcfs at national scale (`benchmarks.heuristics`)", "", how, "", header,
         "| :--- | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows: dict[tuple[str, str], tuple[float | None, int | None]] = {}
    for label, entry in doc["labels"].items():
        for r in entry["runs"]:
            solve, cand = r["stages"].get("solve", {}), r["stages"].get("candidates", {})
            rise = (solve["peak_rss_bytes"] - cand["peak_rss_bytes"]) if solve and cand else None
            rows[label, r["method"]] = (rise, r.get("max_rss_bytes"))
            n = r.get("assignments")
            L.append(f"| {label} | {(entry.get('commit') or '')[:10]} | {r['method']} | {solve.get('seconds', 0):.1f} "
                     f"| {_gib(solve.get('peak_rss_bytes'))} | {_gib(rise)} | {_gib(r.get('max_rss_bytes'))} "
                     f"| {r.get('elapsed_seconds', 0):.0f} | {'–' if n is None else f'{n:,}'} |")
    L.append("")
    for label in doc["labels"]:
        flow = rows.get((label, "koeeo-flow"))
        for method in ("greedy", "fcfs"):
            mine = rows.get((label, method))
            if flow and mine and None not in (*flow, *mine):
                L.append(f"- {label}: {method} against flow, process peak RSS ×{mine[1] / flow[1]:.2f}, "
                         f"solve rise ×{mine[0] / flow[0]:.2f}.")
    m = next(iter(doc["labels"].values()))["machine"]
    load = ("koeeo-flow runs the same solver code under every label, so the spread of its solve times shows "
            "how much the load alone moved the times.")
    where = f"Machine: {m['cpu_model']}, {m['cores']} cores, {_gib(m['memory_bytes'])} GiB, shared with other jobs"
    L += ["", f"{where} during these runs: {load}", ""]
    return L


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.heuristics", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", required=True, help="e.g. 'before' / 'after' a change")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--size", type=int, default=NATIONAL)
    ap.add_argument("--collect", metavar="DIR", help="read DIR/<label>-<method>.json/.time instead of running")
    ap.add_argument("--commit", help="the commit the collected runs were made with")
    ap.add_argument("--command", help="with --collect: how the collected runs were made")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    if a.collect:
        runs = [read_run(os.path.join(a.collect, f"{a.label}-{m}.json"), os.path.join(a.collect, f"{a.label}-{m}.time"))
                for m in a.methods]
        save(a.out, a.label, runs, a.command or "", a.commit)
        return 0
    workdir = os.path.join(repo_root(), "benchmarks", "results", "logs", f"heuristics-{size_label(a.size)}-{a.label}")
    os.makedirs(workdir, exist_ok=True)
    runs = [run(m, a.size, workdir) for m in a.methods]
    save(a.out, a.label, runs, " ".join(["python -m benchmarks.heuristics", *(argv or sys.argv[1:])]),
         machine.describe(repo_root())["koeeo_match_commit"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
