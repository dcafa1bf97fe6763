"""The two flow solvers on the priced route's networks: ``python -m benchmarks.flow_solvers [--departement D]
[--region R] [--scale S] [--rounds N]``.

Runs the priced route (``koeeo_match.solvers.priced``) on ``km.synth.france(seed=0, ...,
rules="flow")`` and keeps the largest network of each of its first ``--rounds`` flows (the
networks the route really solves), then solves each again with OR-Tools' cost scaling
(``SimpleMinCostFlow``) and with LEMON's network simplex (``pylmcf``, the ``fast`` extra), one
after the other in this process, checking that both reach the same optimal cost.  The seconds
cover what ``koeeo_match.solvers._mcf`` does for each (LEMON's: the maximum flow, the reduced
costs and the sort as well).  Results go to ``benchmarks/results/flow_solvers.json`` with the
machine; they set ``_mcf.LEMON_MAX_ARCS`` (docs/solvers.md, "The flow solver").
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import koeeo_match as km
from koeeo_match.solvers import _mcf
from koeeo_match.solvers import _priced_flow as pf
from koeeo_match.solvers._base import SolveOptions
from koeeo_match.solvers.priced import solve_priced

from . import machine
from .common import add_instance_args, instances, record_run, repo_root

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "flow_solvers.json")


class _Enough(Exception):
    """The networks asked for are kept: the priced solve need not go on."""


def networks(kw: dict, rounds: int, policy: str = "max_hours") -> list[tuple]:
    """The largest network of each of the priced route's first ``rounds`` flows solved from scratch."""
    p = km.synth.france(seed=0, rules="flow", **kw)
    kept: list[tuple] = []
    real = pf._solve

    def spy(built, workers, executor=None, stop=None):
        if len(kept) == rounds:
            raise _Enough
        if built.nets:
            net = max(built.nets, key=lambda n: n.tail.size)
            kept.append((net.tail.copy(), net.head.copy(), net.capacity.copy(), net.cost.copy(), int(net.supply),
                         bool(built.by_max_flow)))
        return real(built, workers, executor, stop)

    pf._solve = spy
    try:
        solve_priced(p, km.Policy.preset(policy), SolveOptions())
    except _Enough:
        pass
    finally:
        pf._solve = real
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_instance_args(ap)
    ap.add_argument("--rounds", type=int, default=3, help="networks per instance (the first rounds' largest)")
    ap.add_argument("--policy", default="max_hours",
                    help="a preset (max_hours: maximum flows of least cost; balanced: flows with a bypass)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    if not _mcf.HAS_LEMON:
        print("pylmcf is not installed (pip install 'koeeo-match[fast]')", file=sys.stderr)
        return 2
    todo = instances(a)
    if a.policy != "max_hours":
        todo = [(f"{label}, {a.policy}", kw) for label, kw in todo]
    same = True
    for label, kw in todo:
        rows = []
        for i, (t, h, c, w, supply, bmf) in enumerate(networks(kw, a.rounds, a.policy)):
            row: dict = {"round": i + 1, "arcs": int(t.size), "nodes": int(max(t.max(), h.max())) + 1,
                         "by_max_flow": bmf}
            for name, fn in (("ortools", _mcf._ortools), ("lemon", _mcf._lemon)):
                t0 = time.perf_counter()
                f, cost = fn(t, h, c, w, supply, bmf)
                row[f"{name}_seconds"] = round(time.perf_counter() - t0, 3)
                row[f"{name}_cost"] = cost
            row["same_cost"] = row["ortools_cost"] == row["lemon_cost"]
            row["ratio"] = round(row["lemon_seconds"] / max(row["ortools_seconds"], 1e-9), 3)
            rows.append(row)
            print(f"{label} round {i + 1}: {t.size:,} arcs, OR-Tools {row['ortools_seconds']:.2f} s, "
                  f"LEMON {row['lemon_seconds']:.2f} s, same cost: {row['same_cost']}", flush=True)
            del f
        run = {"instance": label, "networks": rows,
               "command": "python -m benchmarks.flow_solvers " + shlex.join(argv if argv is not None else sys.argv[1:]),
               "machine": machine.describe(repo_root()), "load_average": os.getloadavg()[0]}
        record_run(a.out, run, ("instance",))
        same = same and all(r["same_cost"] for r in rows)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

