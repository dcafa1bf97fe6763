"""Time limits and Ctrl-C through the command line: wall seconds, status, bound, load average.

    python -m benchmarks.time_limits [--problem /tmp/b30k.json] [--methods auto,cpsat] [--limits 2,5]
                                     [--ctrl-c 15] [-- extra solve options, e.g. --memory-limit inf]

Each run is ``python -m koeeo_match solve PROBLEM -o OUT --timings --method M --time-limit T`` in a
child process; a row gives its wall seconds (from start to exit), the solver's seconds
(``solve_seconds - candidate_seconds`` from the file), status, termination, method (and whether the
greedy start was stopped at the deadline), objective, bound and the 1-minute load average at start
(the machine is shared: timings are noisy, read them with it).
``--ctrl-c S`` instead starts each method without a limit and sends SIGINT to its process group
(what a terminal's Ctrl-C does) after ``S`` seconds: the row gives the seconds from the signal to
the exit.  Without ``--problem``, the Bretagne 30,000 instance of docs/solvers.md ("Time limits")
is generated first.  Rows print as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _solve(problem: str, method: str, limit: float | None, extra: list[str], ctrl_c: float | None) -> str:
    out = Path(tempfile.mkdtemp()) / "s.json"
    cmd = [sys.executable, "-m", "koeeo_match", "solve", problem, "-o", str(out), "--timings", "--method", method,
           *([] if limit is None else ["--time-limit", str(limit)]), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    sent = None
    if ctrl_c is not None:
        try:
            proc.wait(ctrl_c)
        except subprocess.TimeoutExpired:
            sent = time.monotonic()
            os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate()
    end = time.monotonic()
    wall = f"{end - t0:.1f}" if sent is None else f"{end - sent:.2f} after SIGINT at {sent - t0:.1f}"
    if not out.exists():
        return f"| {Path(problem).name} | {method} | {limit} | {wall} | – | exit {proc.returncode}: " \
               f"{err.strip().splitlines()[-1][:80] if err.strip() else ''} | | | {load:.1f} |"
    d = json.loads(out.read_text())
    met = d["metrics"]
    solver = met["solve_seconds"] - met["candidate_seconds"]
    cut = ", greedy stopped" if "stopped before" in d.get("message", "") else ""
    return (f"| {Path(problem).name} | {method} | {limit} | {wall} | {solver:.1f} | {d['status']}, "
            f"{d.get('termination')} (`{d.get('method')}`{cut}; exit {proc.returncode}) | {d['objective']:,} | "
            f"{d['bound']} | {load:.1f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", help="problem file (default: Bretagne 30,000, generated)")
    ap.add_argument("--methods", default="auto,cpsat")
    ap.add_argument("--limits", default="2,5")
    ap.add_argument("--ctrl-c", type=float, help="send SIGINT after this many seconds (no limit)")
    ap.add_argument("extra", nargs="*", help="further solve options (after --)")
    args = ap.parse_args(argv)
    problem = args.problem
    if problem is None:
        problem = str(Path(tempfile.gettempdir()) / "b30k.json")
        if not Path(problem).exists():
            subprocess.run([sys.executable, "-m", "koeeo_match", "generate", "--region", "Bretagne", "--employees",
                            "30000", "-o", problem], env=dict(os.environ, PYTHONPATH=str(ROOT / "src")), check=True)
    print("| instance | method | limit (s) | wall (s) | solver (s) | status | objective | bound | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for method in args.methods.split(","):
        if args.ctrl_c is not None:
            print(_solve(problem, method, None, args.extra, args.ctrl_c), flush=True)
            continue
        for limit in (float(x) for x in args.limits.split(",")):
            print(_solve(problem, method, limit, args.extra, None), flush=True)


if __name__ == "__main__":
    main()
