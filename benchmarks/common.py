"""Shared constants and helpers of the benchmark suite (no solver code here)."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from koeeo_match.pipeline import PeakSampler

#: Every run of a size builds the SAME candidate graph:
#: ``km.build_candidates(problem, km.Policy.preset("max_hours"), k=TOP_K)`` -- each employee's 5 best
#: arcs and each mission's 5 best arcs (union), so that every method is compared on the same arcs.
TOP_K = 5
POLICY = "max_hours"
SEED = 0
#: The national instance: 20 M hours of supply, one 7 h day each.
NATIONAL = 2_857_143
SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, NATIONAL)
QUICK_SIZES = (1_000, 3_000, 10_000, 30_000)

#: Methods, in table order.  ``koeeo-*`` run through ``km.pipeline.run``.
METHODS = (
    "koeeo-flow",
    "koeeo-auto",
    "mcf-peer",
    "mcf-peer-plain",
    "cpsat",
    "scipy-matching",
    "networkx",
    "greedy",
    "fcfs",
)

#: Methods run outside the scaling table: the cap experiment's priced row.
EXTRA_METHODS = ("koeeo-priced",)

DESCRIPTION = {
    "koeeo-flow": "koeeo_match `km.pipeline.run(..., method=\"flow\", top_k=5)`: min-cost flow decomposed into "
    "connected components packed into parts (a process pool when worthwhile: `koeeo_match.parallel.run_parts`; "
    "*peak RSS* shows whether workers ran); max-flow-min-cost fast path when every arc has the same hours",
    "koeeo-auto": "koeeo_match `method=\"auto\"` (checks flow obstacles, then flow)",
    "koeeo-priced": "koeeo_match's default exact route (`top_k=None`): min-cost flow over the implicit full graph "
    "by pricing (solvers.priced), optimal for the whole problem with a dual certificate",
    "mcf-peer": "openreview-matcher's way: ONE OR-Tools `SimpleMinCostFlow` over the same arcs, source -> employee "
    "(cap 1) -> [mission, employer] (cap max_per_employer, for every capped mission) -> mission (cap seats) -> sink, "
    "plus a zero-cost source -> sink bypass; a single `solve()`, no decomposition, no fast path",
    "mcf-peer-plain": "the same network without the [mission, employer] layer (literally source -> employee -> "
    "mission -> sink): ignores `max_per_employer`, kept to show what that costs in violations",
    "cpsat": "monolithic CP-SAT: `km.solve(problem, method=\"cpsat\", top_k=5, time_limit=T)` (2 workers), "
    "no warm start",
    "scipy-matching": "`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) on the one-to-one "
    "reduction: each mission expanded into `seats` columns, one dummy column per employee; weights score + 1 "
    "(real arcs) and 1 (dummies), maximize=True. Cannot express `max_per_employer`",
    "networkx": "`networkx.network_simplex` on the mcf-peer network",
    "greedy": "koeeo_match `method=\"greedy\"` (best score first)",
    "fcfs": "koeeo_match `method=\"fcfs\"`: first come, first served (today's platforms), seeded arrival order",
}

#: Largest size each method is run at by default; beyond it the run is recorded as skipped, with the reason.
MAX_SIZE = {
    "cpsat": (100_000, "too large: monolithic CP-SAT is run up to 100k employees"),
    "networkx": (10_000, "too large: pure-Python network simplex is run up to 10k employees"),
    "scipy-matching": (300_000, "too large: LAPJVsp's time grows about as n^2 on these graphs (see the 100k and "
                       "300k rows); 1M would not fit the time budget"),
    "mcf-peer-plain": (300_000, "not needed: it only shows the max_per_employer violations, measured up to 300k"),
    "koeeo-auto": (1_000_000, "time budget: auto runs the same flow solver as koeeo-flow on these instances, "
                   "measured identical up to 1M"),
}

CAP_KS = (2, 3, 5, 10, 20, None)
CAP_INSTANCES = {
    "dep35": {"label": "Ille-et-Vilaine (département 35)", "departement": "35"},
    "bretagne": {"label": "Bretagne (region)", "region": "Bretagne"},
}


def add_instance_args(ap) -> None:
    """``--departement``, ``--region`` and ``--scale`` (each repeatable): the instances of
    ``km.synth.france(seed=0, ..., rules="flow")`` a benchmark runs on (:func:`instances`)."""
    ap.add_argument("--departement", action="append", default=[], help="a département code (repeatable)")
    ap.add_argument("--region", action="append", default=[], help="a region name (repeatable)")
    ap.add_argument("--scale", action="append", default=[], type=float,
                    help="the national instance at this share of its size (repeatable)")


def instances(a) -> list[tuple[str, dict]]:
    """(label, keyword arguments of ``km.synth.france``) of each instance asked by
    :func:`add_instance_args`' options, in the order départements, regions, scales; the label keys
    the results files.

    >>> import argparse
    >>> ap = argparse.ArgumentParser(); add_instance_args(ap)
    >>> instances(ap.parse_args(["--scale", "0.1", "--departement", "35"]))
    [('département 35', {'departement': '35'}), ('national x 0.1', {'scale': 0.1})]
    """
    todo = [(f"département {d}", dict(departement=d)) for d in a.departement]
    todo += [(f"region {r}", dict(region=r)) for r in a.region]
    todo += [(f"national x {x:g}", dict(scale=x)) for x in a.scale]
    return todo


def size_label(n: int) -> str:
    if n == NATIONAL:
        return "national"
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def make_problem(size: int | None = None, *, departement: str | None = None, region: str | None = None):
    """The benchmark instance family: ``km.synth.france(seed=0, scale=n/2_857_143, rules="flow")``."""
    import koeeo_match as km

    if departement is not None or region is not None:
        return km.synth.france(seed=SEED, departement=departement, region=region, rules="flow")
    return km.synth.france(seed=SEED, scale=size / NATIONAL, rules="flow")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def maxrss() -> dict[str, int]:
    """``ru_maxrss`` of this process and of its largest waited-for child (bytes, Linux KiB units)."""
    s = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    c = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"self": s, "children": c}


@dataclass
class StageRecord:
    name: str
    seconds: float
    peak_rss_bytes: int
    children_peak_rss_bytes: int = 0


class Stages:
    """Times each stage and samples its peak RSS every 20 ms (as ``km.pipeline.run`` does)."""

    def __init__(self) -> None:
        self.records: list[StageRecord] = []

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        say(f"[{name}] ...")
        t0 = time.perf_counter()
        sampler = PeakSampler()
        try:
            with sampler:
                value = fn()
        finally:
            dt = time.perf_counter() - t0
            self.records.append(StageRecord(name, dt, sampler.peak, maxrss()["children"]))
            say(f"[{name}] {dt:.2f} s, peak RSS {sampler.peak / 2**30:.2f} GiB")
        return value

    def to_list(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.records]


def tree_sha256(path: str) -> str:
    """SHA-256 over every file of a package directory (relative paths and contents; caches skipped)."""
    import hashlib

    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, f)
            h.update(os.path.relpath(full, path).encode() + b"\0")
            with open(full, "rb") as fh:
                h.update(fh.read())
            h.update(b"\0")
    return h.hexdigest()


def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def record_run(path: str, run: dict, key: tuple[str, ...], section: str = "runs") -> dict:
    """Put ``run`` in the results file ``path`` (``{"runs": [...]}``, created if missing) in place of
    the run with the same values of the fields ``key``, in the list ``section`` of the document (the
    other sections are kept); returns the document written."""
    doc: dict[str, Any] = {"runs": []}
    if os.path.exists(path):
        with open(path) as fh:
            doc = json.load(fh)
    same = tuple(run.get(k) for k in key)
    doc[section] = [x for x in doc.get(section, []) if tuple(x.get(k) for k in key) != same] + [run]
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1, default=str)
    return doc
