"""Regenerate the figures and the table of docs/explore.md from a small seeded instance.

Run from the repository root (needs matplotlib and pandas, both in the ``dev`` extra)::

    python docs/explore_figures.py

It writes docs/img/explore_*.png and prints the sweep table that the page quotes.
Deterministic except for the timings.
"""

from __future__ import annotations

import os
import sys
import time

import matplotlib

matplotlib.use("Agg")

import koeeo_match as km  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, "img")


def markdown(frame) -> str:
    """A pandas frame as a Markdown table (no tabulate dependency)."""
    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
        return str(v)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def main() -> int:
    t0 = time.perf_counter()
    # 20,000 volunteers (one day each) spread over France by population; flow-expressible rules
    problem = km.synth.france(hours=140_000, seed=0)
    print(problem, file=sys.stderr)

    table = km.sweep(
        problem,
        {"hours": 1, "skill_fit": 1, "travel_km": [0, 0.005, 0.02, 0.05, 0.1, 0.3], "primary": ()},
        ["auto", "fcfs"],
        variants={"15 km cap": lambda p: km.whatif.travel_cap(p, 15)},
        seed=0,
        progress=True,
    )
    cols = ["variant", "policy", "method", "status", "assigned_hours", "missions_started_share", "mean_km", "co2_kg"]
    print(markdown(table[cols]))

    front = km.pareto_front(table, maximize=["assigned_hours"], minimize=["co2_kg"])
    print("\nPareto front (assigned_hours up, co2_kg down):")
    print(markdown(front[cols]))

    ax = km.plot.frontier(table[table.variant == "base"], x="co2_kg", y="assigned_hours", x_sense="min",
                          label="w_travel_km")
    ax.set_title("Hours vs CO2 as the travel weight grows (labels)")
    ax.figure.savefig(os.path.join(IMG, "explore_frontier.png"), dpi=110)

    opt = km.solve(problem, method="auto", policy="max_hours", seed=0)
    fcfs = km.solve(problem, method="fcfs", policy="max_hours", seed=0)
    capped = km.solve(km.whatif.travel_cap(problem, 15), method="auto", policy="max_hours", seed=0)

    ax = km.plot.compare_bars({"optimiser": opt, "fcfs": fcfs, "optimiser, 15 km cap": capped})
    ax.set_title("max_hours: optimiser vs first-come-first-served")
    ax.figure.savefig(os.path.join(IMG, "explore_bars.png"), dpi=110)

    ax = km.plot.lorenz({"optimiser": opt, "fcfs": fcfs})
    ax.set_title("Hours received per association")
    ax.figure.savefig(os.path.join(IMG, "explore_lorenz.png"), dpi=110)

    ax = km.plot.map_departements(km.plot.departement_values(opt, "coverage"),
                                  label="seat-hours covered / demanded", vmin=0, vmax=1)
    ax.set_title("Coverage by département (optimiser, max_hours)")
    ax.figure.savefig(os.path.join(IMG, "explore_map.png"), dpi=110)
    print(f"\nwritten docs/img/explore_*.png in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
