"""The suite: every (size, method) in a fresh subprocess, then the cap experiment, then the report."""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from . import machine
from .common import (
    CAP_INSTANCES,
    CAP_KS,
    DESCRIPTION,
    MAX_SIZE,
    METHODS,
    NATIONAL,
    POLICY,
    QUICK_SIZES,
    SEED,
    SIZES,
    TOP_K,
    repo_root,
    size_label,
    tree_sha256,
)

SCHEMA = "koeeo-match-benchmarks/1"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def group_memory(pgid: int) -> tuple[int, int]:
    """(RSS, PSS) summed over the processes of a process group (the run and its workers).

    RSS double-counts pages a forked worker shares with its parent; PSS (``smaps_rollup``)
    splits shared pages between the processes that map them, so the PSS sum is the run's
    physical footprint.
    """
    rss = pss = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields after the name: state ppid pgrp ...
                continue
            rss += int(fields[21]) * _PAGE
            with open(f"/proc/{d}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


def mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def snapshot_source(root: str) -> tuple[str, str]:
    """Copy src/koeeo_match to a temporary directory; (directory to put on PYTHONPATH, its sha256).

    Other people edit src/ while the suite runs; every run imports this frozen copy instead,
    so that all the results come from one version of the library.
    """
    import shutil

    src = os.path.join(root, "src", "koeeo_match")
    top = tempfile.mkdtemp(prefix="koeeo-bench-src-")
    shutil.copytree(src, os.path.join(top, "koeeo_match"), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return top, tree_sha256(os.path.join(top, "koeeo_match"))


def run_subprocess(args: list[str], *, max_seconds: float, max_rss: int, log_path: str,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m benchmarks.one ARGS`` in a new session; kill it past the time or memory limit."""
    fd, json_path = tempfile.mkstemp(suffix=".json", prefix="bench-")
    os.close(fd)
    cmd = [sys.executable, "-m", "benchmarks.one", *args, "--json", json_path]
    t0 = time.perf_counter()
    killed, watch_rss, watch_pss, rss = None, 0, 0, 0
    with open(log_path, "w") as log:
        log.write("$ " + shlex.join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=repo_root(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env=env)
        while proc.poll() is None:
            time.sleep(0.25)
            rss, pss = group_memory(proc.pid)
            watch_rss, watch_pss = max(watch_rss, rss), max(watch_pss, pss)
            elapsed = time.perf_counter() - t0
            if elapsed > max_seconds:
                killed = "timeout"
            elif pss > max_rss:
                killed = "out of memory"
            if killed:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
                break
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {}
    try:
        with open(json_path) as fh:
            text = fh.read()
        if text.strip():
            out = json.loads(text)
    except (OSError, json.JSONDecodeError):
        out = {}
    finally:
        try:
            os.unlink(json_path)
        except OSError:
            pass
    if killed == "timeout":
        out.update(status="timeout", reason=f"killed after {max_seconds:g} s (--max-seconds)")
    elif killed:
        out.update(status="out of memory",
                   reason=f"killed at {pss / 2**30:.1f} GiB (process group PSS; limit {max_rss / 2**30:.1f} GiB)")
    elif not out:
        out = {"status": "error",
               "reason": f"exit code {proc.returncode}, no result (see {os.path.relpath(log_path, repo_root())})"}
    out["process_wall_seconds"] = wall
    # sampled by the parent about every 0.25 s, summed over the run's process group
    out["group_peak_rss_bytes"] = watch_rss
    out["group_peak_pss_bytes"] = watch_pss
    out["memory_limit_bytes"] = max_rss
    out["log"] = os.path.relpath(log_path, repo_root())
    return out


def expected_memory(done: list[dict[str, Any]], experiment: str, method: str, size: int | None,
                    k: int | None) -> int | None:
    """Memory a scaling run should need: the same method's largest smaller run, scaled linearly in size."""
    if experiment != "scaling" or not size:
        return None
    prev = [r for r in done if r.get("experiment") == "scaling" and r["method"] == method and r.get("status") == "ok"
            and r["size"] < size and r.get("group_peak_pss_bytes")]
    if not prev:
        return None
    r = max(prev, key=lambda r: r["size"])
    return int(r["group_peak_pss_bytes"] * size / r["size"])


def wait_for_memory(need: int, max_wait: float) -> float:
    """Wait (up to max_wait s) until the machine has ``need`` + 2 GiB available; seconds waited."""
    t0 = time.perf_counter()
    told = False
    while True:
        avail = mem_available()
        if avail is None or avail >= need + 2 * 2**30 or time.perf_counter() - t0 > max_wait:
            return time.perf_counter() - t0
        if not told:
            print(f" (waiting for {need / 2**30:.1f} GiB + 2 GiB; {avail / 2**30:.1f} GiB available)",
                  end="", flush=True)
            told = True
        time.sleep(15)


def _key(r: dict[str, Any]) -> tuple:
    return (r.get("experiment"), r.get("instance_key"), r.get("method"), r.get("top_k"), r.get("time_limit"))


def _write(path: str, doc: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
    os.replace(tmp, path)


def _stage_s(r: dict[str, Any], *names: str) -> float | None:
    st = r.get("stages")
    if not st:
        return None
    return sum(s["seconds"] for s in st if s["name"] in names)


def _skip_reason(method: str, n: int, done: list[dict[str, Any]], a) -> str | None:
    cap = MAX_SIZE.get(method)
    if cap is not None and n > cap[0] and not a.no_size_limits:
        return f"skipped: {cap[1]}"
    prev = [r for r in done if r.get("experiment") == "scaling" and r["method"] == method and r["size"] < n]
    for r in prev:
        if r["status"] in ("timeout", "out of memory"):
            return f"skipped: too large ({r['status']} at {size_label(r['size'])})"
    ok = sorted((r for r in prev if r["status"] == "ok"), key=lambda r: r["size"])
    if ok and method in ("scipy-matching", "networkx", "mcf-peer-plain"):  # the core methods always run
        t1 = ok[-1]["process_wall_seconds"]
        if len(ok) >= 2 and ok[-2]["process_wall_seconds"] > 1.0:
            p = math.log(t1 / ok[-2]["process_wall_seconds"]) / math.log(ok[-1]["size"] / ok[-2]["size"])
            p = min(max(p, 1.0), 3.0)
        else:
            p = 1.5
        pred = t1 * (n / ok[-1]["size"]) ** p
        if pred > a.max_seconds:
            return (f"skipped: too large (predicted {pred:,.0f} s from {t1:,.1f} s at "
                    f"{size_label(ok[-1]['size'])}, over --max-seconds {a.max_seconds:g})")
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=(
        "Benchmark koeeo_match against its peers on km.synth.france(seed=0, scale=n/2_857_143, rules='flow'), "
        f"every method on the same candidate graph (top_k={TOP_K}), each run in a fresh subprocess; then the "
        "top-k cap experiment; then docs/benchmarks.md (python -m benchmarks.report)."))
    ap.add_argument("--quick", action="store_true",
                    help="sizes 1k, 3k, 10k, 30k; CP-SAT 30 s; cap experiment on département 35 only")
    ap.add_argument("--sizes", help="comma-separated employee counts (e.g. 1000,10000,2857143 or 'national')")
    ap.add_argument("--methods", help=f"comma-separated subset of {','.join(METHODS)}")
    ap.add_argument("--out", default="benchmarks/results", help="results directory (default benchmarks/results)")
    ap.add_argument("--max-seconds", type=float, default=1500.0,
                    help="per run; a run over it is killed and recorded as timeout (default 1500)")
    ap.add_argument("--max-rss-gib", type=float, default=16.0,
                    help="per run, process-group PSS; a run over it (or over the memory available less 2 GiB) "
                         "is killed and recorded as out of memory (default 16)")
    ap.add_argument("--cpsat-time-limit", type=float, default=None,
                    help="CP-SAT time limit at 100k employees and above, seconds (default 300; --quick: 30)")
    ap.add_argument("--cpsat-small-time-limit", type=float, default=None,
                    help="CP-SAT time limit below 100k employees, seconds (default 60; --quick: 30)")
    ap.add_argument("--cap", choices=("all", "dep35", "none", "only"), default=None,
                    help="cap experiment: all (default), dep35 (default with --quick), none, "
                         "or only (skip the scaling runs)")
    ap.add_argument("--no-size-limits", action="store_true", help="run peers at every size (no 'skipped: too large')")
    ap.add_argument("--resume", action="store_true",
                    help="reuse finished runs of the same configuration and library source from OUT/results.json")
    ap.add_argument("--no-report", action="store_true", help="do not regenerate docs/benchmarks.md")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="import the live src/ in every run (default: a copy of src/koeeo_match frozen at the start)")
    ap.add_argument("--src", help="import koeeo_match from DIR/koeeo_match (a frozen copy kept from an earlier run, "
                                  "e.g. to --resume it); default: a fresh copy of src/koeeo_match")
    ap.add_argument("--max-wait", type=float, default=1800.0,
                    help="seconds to wait, before a run, for the memory it is expected to need (the machine is "
                         "shared; default 1800)")
    a = ap.parse_args(argv)
    cli = list(argv) if argv is not None else sys.argv[1:]

    root = repo_root()
    os.chdir(root)
    sizes = list(QUICK_SIZES if a.quick else SIZES)
    if a.sizes:
        sizes = [NATIONAL if s.strip().lower() == "national" else int(float(s))
                 for s in a.sizes.split(",") if s.strip()]
    methods = list(METHODS)
    if a.methods:
        methods = [m.strip() for m in a.methods.split(",") if m.strip()]
        bad = [m for m in methods if m not in METHODS]
        if bad:
            ap.error(f"unknown method(s) {bad}; methods are {', '.join(METHODS)}")
    cpsat_tl = a.cpsat_time_limit or (30.0 if a.quick else 300.0)
    cpsat_small_tl = a.cpsat_small_time_limit or (30.0 if a.quick else 60.0)
    cap_mode = a.cap or ("dep35" if a.quick else "all")
    out_dir = os.path.abspath(a.out)
    os.makedirs(os.path.join(out_dir, "logs"), exist_ok=True)
    path = os.path.join(out_dir, "results.json")
    max_rss = int(a.max_rss_gib * 2**30)

    env = None
    snap_dir = None
    code: dict[str, Any] = {"commit_at_start": machine.describe(root).get("koeeo_match_commit"),
                            "live_src_sha256_at_start": tree_sha256(os.path.join(root, "src", "koeeo_match"))}
    if a.src:
        snap_dir = os.path.abspath(a.src)
        if not os.path.isfile(os.path.join(snap_dir, "koeeo_match", "__init__.py")):
            ap.error(f"--src {a.src}: no koeeo_match package in it")
        sha = tree_sha256(os.path.join(snap_dir, "koeeo_match"))
    elif not a.no_snapshot:
        snap_dir, sha = snapshot_source(root)
        import atexit
        import shutil

        atexit.register(shutil.rmtree, snap_dir, True)
    if snap_dir:
        env = dict(os.environ)
        env["PYTHONPATH"] = snap_dir + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        code.update(snapshot=True, src_sha256=sha)
    else:
        code.update(snapshot=False, src_sha256=code["live_src_sha256_at_start"])

    previous: dict[tuple, dict[str, Any]] = {}
    if a.resume and os.path.exists(path):
        with open(path) as fh:
            for r in json.load(fh).get("runs", []):
                if r.get("status") in ("ok", "timeout", "out of memory"):
                    previous[_key(r)] = r

    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "command": "python -m benchmarks" + (" " + shlex.join(cli) if cli else ""),
        "started_utc": machine.describe()["date_utc"],
        "machine": machine.describe(root),
        "code": code,
        "config": {
            "instance": "km.synth.france(seed=0, scale=n/2_857_143, rules='flow')",
            "candidate_graph": f"km.build_candidates(problem, km.Policy.preset('{POLICY}'), k={TOP_K})",
            "top_k": TOP_K, "policy": POLICY, "seed": SEED, "national": NATIONAL,
            "sizes": sizes, "methods": methods, "max_seconds": a.max_seconds, "max_rss_gib": a.max_rss_gib,
            "cpsat_time_limit": cpsat_tl, "cpsat_small_time_limit": cpsat_small_tl, "quick": a.quick, "cap": cap_mode,
            "method_descriptions": {m: DESCRIPTION[m] for m in METHODS},
            "size_limits": {m: list(MAX_SIZE[m]) for m in METHODS if m in MAX_SIZE},
            "cap_ks": [k for k in CAP_KS],
            "cap_instances": CAP_INSTANCES,
        },
        "runs": [],
    }
    runs: list[dict[str, Any]] = doc["runs"]

    def record(r: dict[str, Any]) -> None:
        runs.append(r)
        _write(path, doc)

    def execute(experiment: str, instance_key: str, args: list[str], method: str, k: int | None,
                tl: float | None, extra: dict[str, Any]) -> dict[str, Any]:
        base = {"experiment": experiment, "instance_key": instance_key, "method": method, "top_k": k,
                "time_limit": tl, **extra}
        old = previous.get(_key(base))
        if old is not None and (old.get("code") or {}).get("src_sha256") == code["src_sha256"]:
            print(f"{instance_key:>10} {method:<15} (reused from previous results.json)", flush=True)
            record(old)
            return old
        log = os.path.join(out_dir, "logs", f"{experiment}-{instance_key}-{method}-k{k}.log")
        print(f"{instance_key:>10} {method:<15} k={k} ...", end="", flush=True)
        need = expected_memory(runs, experiment, method, extra.get("size"), k)
        waited = wait_for_memory(need, a.max_wait) if need else 0.0
        load = os.getloadavg()[0]
        avail = mem_available()
        limit = max_rss if avail is None else min(max_rss, avail - 2 * 2**30)  # leave 2 GiB to the others
        res = run_subprocess(args + ["--method", method, "--k", "none" if k is None else str(k)]
                             + ([] if tl is None else ["--time-limit", str(tl)]),
                             max_seconds=a.max_seconds, max_rss=limit, log_path=log, env=env)
        r = {**res, **base, "load_average_before": load, "waited_for_memory_seconds": waited,
             "expected_memory_bytes": need}
        peak = max(r.get("ru_maxrss_self_bytes", 0), r.get("ru_maxrss_children_bytes", 0),
                   r.get("group_peak_pss_bytes", 0))
        obj = r.get("objective")
        print(f" {r['status']:<8} {r['process_wall_seconds']:8.1f} s  peak {peak / 2**30:5.2f} GiB"
              + (f"  objective {obj:,.0f} h  violations {r.get('violations')}" if obj is not None else "")
              + (f"  ({r.get('reason')})" if r["status"] != "ok" else ""), flush=True)
        record(r)
        return r

    if cap_mode != "only":
        print(f"# scaling: sizes {', '.join(size_label(n) for n in sizes)}; methods {', '.join(methods)}", flush=True)
        for n in sizes:
            for method in methods:
                tl = (cpsat_tl if n >= 100_000 else cpsat_small_tl) if method == "cpsat" else None
                reason = _skip_reason(method, n, runs, a)
                base = {"experiment": "scaling", "instance_key": size_label(n), "size": n, "method": method,
                        "top_k": TOP_K, "time_limit": tl}
                if reason:
                    print(f"{size_label(n):>10} {method:<15} {reason}", flush=True)
                    record({**base, "status": "skipped", "reason": reason})
                    continue
                execute("scaling", size_label(n), ["--size", str(n)], method, TOP_K, tl, {"size": n})

    if cap_mode != "none":
        keys = ["dep35"] if cap_mode == "dep35" else list(CAP_INSTANCES)
        print(f"# cap experiment: {', '.join(keys)}; k in {', '.join(str(k) for k in CAP_KS)}", flush=True)
        for key in keys:
            inst = CAP_INSTANCES[key]
            args = ["--departement", inst["departement"]] if "departement" in inst else ["--region", inst["region"]]
            for k in CAP_KS:
                execute("cap", key, args, "koeeo-flow", k, None, {"size": None})
            execute("cap", key, args, "koeeo-priced", None, None, {"size": None})

    doc["finished_utc"] = machine.describe()["date_utc"]
    _write(path, doc)
    print(f"results: {os.path.relpath(path, root)}", flush=True)
    if not a.no_report:
        from . import report

        report.main(["--results", path])
    return 0
