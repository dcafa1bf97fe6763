"""What the first pricing round finds: ``python -m benchmarks.priced_round1 [--departement D] [--scale S] ...``.

The priced route (``koeeo_match.solvers.priced``) solves its start graph, then prices the
implicit full graph. This takes that first round apart on ``km.synth.france(seed=0, ...,
rules="flow")`` with the ``max_hours`` policy: the arcs that price out after the first flow,
by whether each end has capacity left (a *free* employee or mission, priced at 0) and whether
the mission is remote; then what each partial step finds at the same prices -- the scan with
remote missions capped (``priced_pairs(..., cap=REMOTE_CAP)``) and the free-pair step
(``candidates.free_pairs``) -- against the complete scan, with their seconds. One result per
instance goes to ``benchmarks/results/priced_round1.json``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import numpy as np

import koeeo_match as km
from koeeo_match.candidates import arc_terms, free_pairs, priced_pairs, problem_scale, score_bounds
from koeeo_match.solvers import priced as P
from koeeo_match.solvers._priced_flow import NEVER, PricedFlow

from . import machine
from .common import add_instance_args, instances, record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "priced_round1.json")


def first_round(label: str, problem: km.Problem) -> dict:
    """The first round's arcs that price out, by class, and what the partial steps find."""
    pol = km.Policy.preset("max_hours")
    E, M = problem.n_employees, problem.n_missions
    k = P.capacity(problem)
    seats = problem.missions.seats.astype(np.int64)
    flat = P._uniform_primary(problem, pol, None) is not None
    scale = problem_scale(problem, pol, max_arcs=0 if flat else int(min(P.MAX_ARCS, E * M)))
    bounds = score_bounds(problem, pol, scale)
    weighted = [t for t, w in pol.weights().items() if w]
    ea, ma, d = P.start_pairs(problem, pol)
    held = P._Graph(problem, ea, ma, d, scale.apply(pol, arc_terms(problem, ea, ma, d, weighted)))
    t = time.perf_counter()
    sel, y, v = PricedFlow(problem, k, P._uniform_primary(problem, pol, scale), 0).solve(
        held.candidate_graph(problem, pol, scale), None)
    t_solve = time.perf_counter() - t
    y[k <= 0], v[seats <= 0] = NEVER, NEVER
    used = np.bincount(held.ea[sel], minlength=E)
    filled = np.bincount(held.ma[sel], minlength=M)
    free_e, free_m = used < k, filled < seats
    every_e, every_m = np.ones(E, bool), np.ones(M, bool)
    out: dict = {"instance": label, "employees": E, "missions": M, "start_arcs": int(ea.size),
                 "first_solve_seconds": t_solve, "free_employees": int(free_e.sum()),
                 "free_missions": int(free_m.sum())}
    for name, cap in (("scan", None), ("scan_capped", P.REMOTE_CAP)):
        t = time.perf_counter()
        nea, nma, _, _, st = priced_pairs(problem, pol, scale, bounds, y, v, every_e, every_m, cap=cap)
        out[name] = {"seconds": time.perf_counter() - t, "pairs_tested": st.pairs_tested,
                     "arcs_scanned": st.arcs_scanned, "arcs_priced": st.arcs_priced,
                     "remote_missions_cut": int(st.cut.size)}
        if cap is None:
            fe, fm, rem = free_e[nea], free_m[nma], problem.missions.remote[nma]
            out[name]["by_class"] = {
                "free_employee_free_mission": int((fe & fm).sum()),
                "free_employee_busy_mission": int((fe & ~fm).sum()),
                "busy_employee_free_mission": int((~fe & fm).sum()),
                "busy_employee_busy_mission": int((~fe & ~fm).sum()),
                "remote_mission": int(rem.sum()),
            }
            out[name]["employees_touched"] = int(np.unique(nea).size)
            out[name]["missions_touched"] = int(np.unique(nma).size)
    t = time.perf_counter()
    fea, _, _, _, fst = free_pairs(problem, pol, scale, y, v, np.flatnonzero(free_e & (y <= 0)),
                                   np.flatnonzero(free_m & (v <= 0)), P.PARTIAL_K)
    out["free_pairs"] = {"seconds": time.perf_counter() - t, "arcs_drawn": fst.arcs_drawn,
                         "arcs_priced": fst.arcs_priced}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_instance_args(ap)
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    todo = instances(a)
    for label, kw in todo:
        r = first_round(label, km.synth.france(seed=0, rules="flow", **kw))
        r.update(command="python -m benchmarks.priced_round1 " + shlex.join(argv if argv is not None else sys.argv[1:]),
                 machine=machine.describe(), load_average=os.getloadavg()[0])
        record_run(a.out, r, ("instance",))
        s, c = r["scan"], r["scan_capped"]
        print(f"{label}: {s['arcs_priced']:,} arcs price out ({s['by_class']}); capped scan "
              f"{c['arcs_priced']:,} in {c['seconds']:.1f} s vs {s['seconds']:.1f} s; free pairs "
              f"{r['free_pairs']['arcs_priced']:,} in {r['free_pairs']['seconds']:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
