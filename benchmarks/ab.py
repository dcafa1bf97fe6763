"""Whole-process A/B of one library setting: ``python -m benchmarks.ab --setting S [--departement D]
[--region R] [--scale X] [--pairs N]``.

Some changes are smaller than the drift of a machine's speed from one run to the next, so a
single run before and one after prove nothing.  This benchmark runs the two arms of a setting
alternately, each in a fresh process that generates ``km.synth.france(seed=0, ..., rules="flow")``
and solves it with ``km.solve`` (the library's default exact route), and reports, per pair, both
wall times (generation excluded) and the ratio B/A, then the median ratio.  The arms must reach the
same objective; a pair that does not fails the run.

Settings (arm A is the library as it is):

- ``lemon``: arm B solves every flow with OR-Tools alone (``solvers._mcf.HAS_LEMON = False``), as
  without the ``fast`` extra; the ratio is the extra's effect (below 1: A faster);
- ``scan-batches``: arm B scores and tests the scan's pieces one by one
  (``candidates._scan._BATCH = 1``) instead of in batches of 200,000 pairs.

Each pair's order alternates (A then B, then B then A), so that a trend in the machine's speed
falls on both arms alike.  The run is recorded in ``benchmarks/results/ab.json`` with the machine,
the command and the load average before it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

from . import machine
from .common import add_instance_args, instances, record_run, repo_root

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "ab.json")
SETTINGS = ("lemon", "scan-batches")


def _arm_b(setting: str) -> None:
    """Switch this process to arm B of ``setting``."""
    if setting == "lemon":
        from koeeo_match.solvers import _mcf

        _mcf.HAS_LEMON = False
    elif setting == "scan-batches":
        from koeeo_match.candidates import _scan

        _scan._BATCH = 1


def child(setting: str, arm: str, kw: dict) -> dict:
    """One arm in this process: generate, solve, and what was measured."""
    import koeeo_match as km

    if arm == "B":
        _arm_b(setting)
    p = km.synth.france(seed=0, rules="flow", **kw)
    t = time.perf_counter()
    s = km.solve(p)
    return {"arm": arm, "seconds": time.perf_counter() - t, "objective": s.objective, "status": s.status.value,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def _run_arm(setting: str, arm: str, kw: dict) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.ab", "--child", setting, arm, json.dumps(kw)],
                         cwd=repo_root(), capture_output=True, text=True)
    if out.returncode != 0:  # the child's own error, not only its exit status
        raise RuntimeError(f"arm {arm} of {setting} on {kw} exited with {out.returncode}:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setting", choices=SETTINGS)
    add_instance_args(ap)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], json.loads(a.child[2]))))
        return 0
    if a.setting is None:
        ap.error("--setting is required")
    if a.setting == "lemon":
        from koeeo_match.solvers import _mcf

        if not _mcf.HAS_LEMON:
            print("pylmcf is not installed (pip install 'koeeo-match[fast]'): arm A would be arm B",
                  file=sys.stderr)
            return 2
    todo = instances(a)
    ok = True
    for label, kw in todo:
        load = os.getloadavg()[0]
        pairs = []
        for i in range(a.pairs):
            order = ("A", "B") if i % 2 == 0 else ("B", "A")
            got = {arm: _run_arm(a.setting, arm, kw) for arm in order}
            same = got["A"]["objective"] == got["B"]["objective"]
            ok = ok and same
            pairs.append({"order": "".join(order), "a_seconds": round(got["A"]["seconds"], 3),
                          "b_seconds": round(got["B"]["seconds"], 3),
                          "ratio": round(got["B"]["seconds"] / got["A"]["seconds"], 3),
                          "a_peak_rss_bytes": got["A"]["peak_rss_bytes"],
                          "b_peak_rss_bytes": got["B"]["peak_rss_bytes"],
                          "objective": got["A"]["objective"], "same_objective": same})
            print(f"{label} pair {i + 1}: A {got['A']['seconds']:.1f} s, B {got['B']['seconds']:.1f} s, "
                  f"B/A {pairs[-1]['ratio']:.2f}, same objective: {same}", flush=True)
        run = {"setting": a.setting, "instance": label, "pairs": pairs,
               "median_ratio": statistics.median(p["ratio"] for p in pairs),
               "median_a_seconds": statistics.median(p["a_seconds"] for p in pairs),
               "median_b_seconds": statistics.median(p["b_seconds"] for p in pairs),
               "command": "python -m benchmarks.ab " + shlex.join(argv if argv is not None else sys.argv[1:]),
               "machine": machine.describe(repo_root()), "load_average": load}
        record_run(a.out, run, ("setting", "instance"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
