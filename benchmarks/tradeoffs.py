"""Hours against territorial equity, measured on a seeded national run: ``python -m benchmarks.tradeoffs``.

Solves the national instance (``km.synth.france(seed=0, rules="flow")``, scaled by ``--scale``)
under each policy with the exact min-cost flow on the capped candidate graph (``top_k=5``), plus
first-come-first-served as the baseline, and records, per run, the total hours and the territorial
figures of :mod:`koeeo_match.metrics`.  Every policy is solved on the same arcs, those that
``max_hours`` keeps (``rank="max_hours"``), so that the rows differ by their objective alone;
``--own-arcs`` instead lets each policy keep its own best arcs (what ``km.solve(..., top_k=5)``
does), which mixes the effect of the objective with that of the arcs kept.

Writes ``benchmarks/results/tradeoffs.json`` (with the machine's description) and
``docs/img/tradeoffs_national.png``, and prints the Markdown table that docs/policies.md quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import koeeo_match as km

from .machine import describe

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "results", "tradeoffs.json")
PNG = os.path.join(ROOT, "docs", "img", "tradeoffs_national.png")

POLICIES = ("max_hours", "hours_then_equity", "territorial_equity", "max_coverage", "min_travel",
            "hours=1,rural=1", "hours=1,rural=4,small_association=1")
#: (column, header, format) of the Markdown table.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("assigned_hours", "hours assigned", "{:,.0f}"),
    ("missions_filled_share", "missions filled", "{:.3f}"),
    ("associations_served_share", "associations served", "{:.3f}"),
    ("small_associations_served_share", "small associations served", "{:.3f}"),
    ("worst_decile_coverage_by_departement", "worst-decile département coverage", "{:.3f}"),
    ("gini_hours_per_capita_by_departement", "Gini of hours per capita (départements)", "{:.3f}"),
    ("coverage_urban", "coverage urban", "{:.3f}"),
    ("coverage_intermediate", "coverage intermediate", "{:.3f}"),
    ("coverage_rural", "coverage rural", "{:.3f}"),
    ("mean_km", "mean km", "{:.2f}"),
    ("co2_kg", "CO2 (t, car round trips)", "{:,.0f}"),
)
#: columns shown in another unit than the metric's
_UNIT = {"co2_kg": 1e-3}


def run(scale: float, top_k: int, policies: list[str], seed: int = 0, own_arcs: bool = False) -> list[dict[str, Any]]:
    """One row per run: the policy, the method, the seconds and every metric of the solution."""
    say = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    t = time.perf_counter()
    problem = km.synth.france(seed=seed, scale=scale, rules="flow")
    say(f"generated {problem!r} in {time.perf_counter() - t:.1f} s")
    rows = []
    runs = [(name, "flow") for name in policies] + [("max_hours", "fcfs")]
    for name, method in runs:
        t = time.perf_counter()
        sol = km.solve(problem, method=method, policy=name, top_k=top_k, seed=seed,
                       rank=None if own_arcs else "max_hours")
        dt = time.perf_counter() - t
        bad = len(km.check(problem, sol))
        row = {"policy": name if method != "fcfs" else "fcfs (first come, first served)", "method": sol.method,
               "status": sol.status.value, "seconds": dt, "violations": bad,
               **{k: v for k, v in sol.metrics.items() if not isinstance(v, dict)}}
        rows.append(row)
        say(f"{row['policy']:<32} {sol.status.value:<9} {dt:6.1f} s  {row['assigned_hours']:>14,.0f} h  "
            f"worst decile {row['worst_decile_coverage_by_departement']:.3f}  violations {bad}")
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of docs/policies.md."""
    head = "| policy | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 1)]
    for r in rows:
        cells = [("–" if r.get(c) is None else f.format(r[c] * _UNIT.get(c, 1))) for c, _, f in COLUMNS]
        lines.append(f"| `{r['policy']}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: str) -> None:
    """Each run's change in hours, rural and worst-decile coverage against the first (max_hours),
    and coverage by density class (bars, zoomed on the range where the runs differ)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5.2))
    ref = rows[0]  # max_hours, the first policy
    labels = [r["policy"].split(" (")[0] for r in rows]
    changes = (("hours assigned (%)", lambda r: 100 * (r["assigned_hours"] / ref["assigned_hours"] - 1)),
               ("rural coverage (points)", lambda r: 100 * (r["coverage_rural"] - ref["coverage_rural"])),
               ("worst-decile coverage (points)", lambda r: 100 * (r["worst_decile_coverage_by_departement"]
                                                                   - ref["worst_decile_coverage_by_departement"])))
    y = np.arange(len(rows))
    h = 0.8 / len(changes)
    for i, (name, f) in enumerate(changes):
        a1.barh(y - 0.4 + h / 2 + i * h, [f(r) for r in rows], h, label=name)
    a1.set_yticks(y, labels, fontsize=8)
    a1.invert_yaxis()
    a1.axvline(0, color="k", lw=0.8)
    a1.set_xlabel(f"change against {labels[0]} (same arcs)")
    a1.set_title("What each policy changes: total hours, rural and worst-off départements", fontsize=10)
    a1.legend(fontsize=8, loc="upper left")
    a1.grid(axis="x", alpha=0.3)
    classes = ("coverage_urban", "coverage_intermediate", "coverage_rural")
    x = np.arange(len(classes))
    w = 0.8 / len(rows)
    for i, r in enumerate(rows):
        a2.bar(x + i * w - 0.4 + w / 2, [r[c] or 0.0 for c in classes], w, label=r["policy"])
    lo = min(min(r[c] or 0.0 for c in classes) for r in rows)
    a2.set_ylim(max(0.0, lo - 0.05), None)
    a2.set_xticks(x, ["urban", "intermediate", "rural"])
    a2.set_ylabel("hours assigned / seat-hours posted (axis zoomed)")
    a2.set_title("Coverage by density class of the département", fontsize=10)
    a2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)
    a2.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="share of the national instance")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--policies", default=";".join(POLICIES), help="';'-separated presets or weights")
    ap.add_argument("--own-arcs", action="store_true", help="each policy keeps its own best arcs (default: "
                                                            "the arcs max_hours keeps, for every policy)")
    ap.add_argument("--out", default=OUT, help="the JSON written (default benchmarks/results/tradeoffs.json)")
    ap.add_argument("--png", default=PNG, help="the figure written (default docs/img/tradeoffs_national.png)")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure and table from --out")
    args = ap.parse_args(argv)
    if args.plot_only:
        with open(args.out, encoding="utf-8") as fh:
            rows = json.load(fh)["rows"]
        plot(rows, args.png)
        print(table(rows))
        return 0
    rows = run(args.scale, args.top_k, [p for p in args.policies.split(";") if p], own_arcs=args.own_arcs)
    doc = {
        "command": "python -m benchmarks.tradeoffs " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": describe(ROOT),
        "scale": args.scale,
        "top_k": args.top_k,
        "arcs": "each policy's own" if args.own_arcs else "those max_hours keeps (rank='max_hours')",
        "rows": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, default=float)
    plot(rows, args.png)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
