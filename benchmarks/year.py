"""A year against hindsight: ``python -m benchmarks.year [--region R] [--employees N] [--seed S] [--rules all|flow]
[--batches daily,weekly,monthly] [--variants weekly:0,weekly:now+fill,...] [--time-limit T]``.

On ``km.synth.region(R, employees=N, seed=S, rules=..., year=True)`` (default Occitanie, whose
13 départements include 7 rural ones (Bretagne has none), 3,000 employees, seed 0, the
generator's default rules ``"all"``), the year is replayed by
``km.simulate`` (policy ``max_hours``):

- with the exact default method (``method="auto"``) at each batch frequency asked;
- by online first-come-first-served (``method="fcfs"``, which steps every day; replayed with
  ``batch="daily"`` so that each record is one day and the waiting times are exact to the day);
- by batch greedy (``method="greedy"``, weekly);
- with ``method="auto"``, deferred commitment (``commit_days=D``) and/or the online fill
  (``fill=True``) at each item of ``--variants``: ``batch:D`` (deferred ``D`` days),
  ``batch:now+fill`` (pinned at once, with the fill), ``batch:D+fill`` (both), each ``+undated-now``
  for ``hold_undated=False``;

and the hindsight optimum is ``km.solve`` on the whole problem (``method="auto"``); the
**batch-known optimum** at each batch frequency (``km.solve`` of
:func:`koeeo_match.batching.batch_known`: the hindsight optimum restricted to the pairs some batch
date can make) is the ceiling of any year at that frequency, and its gap to hindsight the
short-notice loss.  For each:
hours placed and their share of the hindsight optimum's, missions filled and started shares,
rural coverage (``coverage_rural`` of the solution's metrics), the hours and the number of team
missions staffed (``min_seats > 1``), employees assigned, the waiting time
in days from joining to the first participation (over the employees assigned; an employee without
``joined`` counts from the first batch date; none for hindsight, which has no time of assignment),
the notice in days from a participation's confirmation (its batch) to the mission's date (over
the dated ones), ``km.check`` violations on the whole problem, seconds (whole replay, and per
batch date, the fill days' included), the days the online fill pinned something, peak RSS of
this process while it ran, and the cumulative hours after each batch.  The run is appended to
``benchmarks/results/year.json`` (with the machine, the command and the load average), and the
cumulative hours are drawn with :func:`koeeo_match.plot.year` to ``docs/img/year_<instance>.png``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import koeeo_match as km
from koeeo_match.memory import PeakSampler
from koeeo_match.model import NO_DATE, format_day
from koeeo_match.simulate import BATCHES, batch_dates, batch_known

from . import machine
from .common import record_run

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "year.json")
IMG = os.path.join(os.path.dirname(HERE), "docs", "img")


def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def waiting_days(problem: km.Problem, year: Any, *, joined_only: bool = False) -> np.ndarray:
    """Days from joining to the first participation, one per employee assigned in ``year``
    (in the problem's order).

    An employee's first participation is the first batch record that assigns it (cancelled or
    not); an employee without ``joined`` counts from the first batch date of the year, or is left
    out with ``joined_only``.
    """
    E = problem.employees
    first = int(batch_dates(problem, "daily")[0])
    start = np.where(E.joined == NO_DATE, first, E.joined).astype(np.int64)
    pos = {e: i for i, e in enumerate(E.ids.tolist())}
    when = np.full(len(E), -1, np.int64)
    for b in year.batches:
        d = _day(b.date)
        for e, _ in b.assignments:
            i = pos[e]
            if when[i] < 0:
                when[i] = d
    got = when >= 0
    if joined_only:
        got &= E.joined != NO_DATE
    return (when[got] - start[got]).astype(np.int64)


def notice_days(problem: km.Problem, year: Any) -> np.ndarray:
    """Days from each dated participation's batch (when it was pinned: confirmed) to its mission's date."""
    M = problem.missions
    pos = {m: i for i, m in enumerate(M.ids.tolist())}
    out = [int(M.date[pos[m]]) - _day(b.date) for b in year.batches for _, m in b.assignments
           if M.date[pos[m]] != NO_DATE]
    return np.asarray(out, np.int64)


def _row(label: str, method: str, batch: str | None, problem: km.Problem, sol: km.Solution, seconds: float,
         peak: int, year: Any = None, commit_days: int | None = None, fill: bool = False,
         hold_undated: bool = True) -> dict:
    met = sol.metrics
    team_hours, teams = 0.0, 0
    if sol.mission is not None and len(sol.mission):
        m = np.asarray(sol.mission, np.int64)
        team = problem.missions.min_seats[m] > 1  # team missions (a minimum of volunteers on one day)
        team_hours, teams = float(problem.missions.hours[m[team]].sum()), int(np.unique(m[team]).size)
    row: dict[str, Any] = {
        "label": label, "method": method, "batch": batch, "commit_days": commit_days, "fill": fill,
        "hold_undated": hold_undated,
        "status": sol.status.value,
        "hours": float(sol.objective if sol.objective is not None else met.get("assigned_hours", 0.0)),
        "assigned_hours": met.get("assigned_hours"), "assignments": met.get("assignments"),
        "missions_filled_share": met.get("missions_filled_share"),
        "missions_started_share": met.get("missions_started_share"),
        "employees_assigned_share": met.get("employees_assigned_share"),
        "coverage_rural": met.get("coverage_rural"), "coverage_intermediate": met.get("coverage_intermediate"),
        "coverage_urban": met.get("coverage_urban"), "team_hours": team_hours, "teams_staffed": teams,
        "violations": len(km.check(problem, sol)), "seconds": seconds, "peak_rss_bytes": peak,
        "batches": None, "fill_days": None, "seconds_per_batch_mean": None, "seconds_per_batch_max": None,
        "waiting_days_mean": None, "waiting_days_median": None, "waiting_days_p90": None,
        "waiting_days_mean_joined": None, "waiting_days_median_joined": None, "notice_days_median": None,
        "notice_days_p10": None, "batch_status": None, "series": None,
    }
    if year is not None:
        wait = waiting_days(problem, year)
        dated = waiting_days(problem, year, joined_only=True)
        per = np.array([b.seconds for b in year.batches], float)  # a fill day's seconds go to its record
        n_batch = sum(b.kind == "batch" for b in year.batches)
        notice = notice_days(problem, year)
        row.update(
            batches=n_batch, fill_days=len(year.batches) - n_batch,
            seconds_per_batch_mean=float(per.sum() / n_batch) if n_batch else 0.0,
            seconds_per_batch_max=float(per.max()) if per.size else 0.0,
            waiting_days_mean=float(wait.mean()) if wait.size else None,
            waiting_days_median=float(np.median(wait)) if wait.size else None,
            waiting_days_p90=float(np.percentile(wait, 90)) if wait.size else None,
            waiting_days_mean_joined=float(dated.mean()) if dated.size else None,
            waiting_days_median_joined=float(np.median(dated)) if dated.size else None,
            notice_days_median=float(np.median(notice)) if notice.size else None,
            notice_days_p10=float(np.percentile(notice, 10)) if notice.size else None,
            batch_status=dict(Counter(b.status for b in year.batches)),
            series=[[b.date, b.cumulative_hours] for b in year.batches])
    return row


def _measured(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    t = time.perf_counter()
    with PeakSampler() as sampler:
        out = fn()
    return out, time.perf_counter() - t, sampler.peak


#: A row with deferred commitment and/or the online fill: (batch, commit_days, fill, hold_undated).
Variant = tuple[str, "int | None", bool, bool]
#: The rows with deferred commitment and/or the online fill by default.
VARIANTS: tuple[Variant, ...] = (
    ("weekly", 0, False, True), ("weekly", 0, False, False), ("weekly", 28, False, True),
    ("weekly", None, True, True), ("weekly", 0, True, True), ("weekly", 0, True, False), ("weekly", 28, True, True),
    ("daily", 0, False, True), ("monthly", 0, False, True), ("monthly", None, True, True), ("monthly", 0, True, True))


def variant_label(batch: str, commit_days: int | None, fill: bool, hold_undated: bool = True) -> str:
    """``auto, weekly, deferred 0 d + fill`` and the like."""
    parts = ([] if commit_days is None else [f"deferred {commit_days} d"
                                             + ("" if hold_undated else " (undated at once)")])
    return f"auto, {batch}, " + " + ".join(parts + (["fill"] if fill else []))


def _variant_text(v: Variant) -> str:
    batch, days, fill, hold = v
    return f"{batch}:{'now' if days is None else days}{'+fill' if fill else ''}{'' if hold else '+undated-now'}"


def parse_variants(text: str) -> list[Variant]:
    """``"weekly:0,weekly:now+fill,weekly:0+undated-now"`` -> ``[("weekly", 0, False, True),
    ("weekly", None, True, True), ("weekly", 0, False, False)]``."""
    out: list[Variant] = []
    for item in (x for x in text.split(",") if x):
        batch, _, rest = item.partition(":")
        days, *flags = rest.split("+")
        if (batch not in BATCHES or not (days == "now" or days.isdigit()) or len(set(flags)) < len(flags)
                or not set(flags) <= {"fill", "undated-now"}):
            raise ValueError(f"expected batch:D or batch:now, then +fill and/or +undated-now (D >= 0 days), "
                             f"got {item!r}")
        if days == "now" and "fill" not in flags:
            raise ValueError(f"{item!r}: 'now' without the fill is the plain 'auto, {batch}' row")
        if days == "now" and "undated-now" in flags:
            raise ValueError(f"{item!r}: +undated-now needs a commit horizon D")
        out.append((batch, None if days == "now" else int(days), "fill" in flags, "undated-now" not in flags))
    return out


def run(problem: km.Problem, batches: Sequence[str] = BATCHES, *, seed: int = 0, time_limit: float | None = None,
        progress: Callable[[str], None] | None = None,
        variants: Sequence[Variant] = VARIANTS) -> dict:
    """The benchmark's rows on one problem with days: hindsight, the batch-known optimum at each of
    ``batches``, ``auto`` at each of ``batches``, online fcfs, weekly greedy and ``auto`` at each
    ``(batch, commit_days, fill, hold_undated)`` of ``variants`` (see the module's docstring).

    Returns ``{"rows": [...], "hindsight_hours": float, "first_day": str, "last_day": str}``;
    each row has ``share_of_hindsight``.
    """
    say = progress or (lambda s: None)
    rows = []
    hind, sec, peak = _measured(lambda: km.solve(problem, method="auto", seed=seed, time_limit=time_limit))
    rows.append(_row("hindsight optimum", "auto", None, problem, hind, sec, peak))
    say(f"hindsight: {hind.status.value} {hind.objective:,.1f} h, {sec:.1f} s")
    for b in batches:
        known = batch_known(problem, b)
        ceil, sec, peak = _measured(lambda q=known: km.solve(q, method="auto", seed=seed, time_limit=time_limit))
        rows.append(_row(f"batch-known optimum, {b}", "auto", b, known, ceil, sec, peak))
        say(f"batch-known optimum, {b}: {ceil.status.value} {ceil.objective:,.1f} h, {sec:.1f} s")
    plan: list[tuple[str, str, Variant]] = [(f"auto, {b}", "auto", (b, None, False, True)) for b in batches]
    plan += [("online fcfs (daily)", "fcfs", ("daily", None, False, True)),
             ("greedy, weekly", "greedy", ("weekly", None, False, True))]
    plan += [(variant_label(*v), "auto", v) for v in variants]
    for label, method, (batch, commit, fill, hold) in plan:
        year, sec, peak = _measured(lambda m=method, b=batch, c=commit, f=fill, h=hold: km.simulate(
            problem, batch=b, method=m, seed=seed, time_limit=time_limit, commit_days=c, fill=f, hold_undated=h))
        rows.append(_row(label, method, batch, problem, year.solution, sec, peak, year, commit, fill, hold))
        say(f"{label}: {year.solution.objective:,.1f} h, {len(year.batches)} batches, {sec:.1f} s")
    best = rows[0]["hours"]
    for r in rows:
        r["share_of_hindsight"] = r["hours"] / best if best else None
    first, last = batch_dates(problem, "daily")[[0, -1]]
    return {"rows": rows, "hindsight_hours": best, "first_day": format_day(int(first)),
            "last_day": format_day(int(last))}


#: The rows drawn by :func:`plot` (all of them would be unreadable).
PLOTTED = ("auto, daily", "auto, weekly", "auto, monthly", "online fcfs (daily)", "auto, weekly, deferred 0 d",
           "auto, weekly, fill", "auto, weekly, deferred 0 d + fill")


def plot(doc_run: dict, path: str) -> None:
    """Cumulative hours over the year of the rows in :data:`PLOTTED`, with the hindsight optimum as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {r["label"]: r["series"] for r in doc_run["rows"] if r["series"] and r["label"] in PLOTTED}
    ax = km.plot.year(series, hindsight=doc_run["hindsight_hours"],
                      title=f"{doc_run['region']}, {doc_run['employees']:,} employees, seed {doc_run['seed']}, "
                            f"rules {doc_run['rules']!r}: hours confirmed over the year")
    ax.figure.savefig(path, dpi=110)
    plt.close(ax.figure)


def _slug(region: str, employees: int, seed: int, rules: str) -> str:
    name = "".join(c if c.isalnum() else "-" for c in region.lower())
    return f"{name}_{employees}_s{seed}_{rules}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--region", default="Occitanie")
    ap.add_argument("--employees", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rules", default="all", choices=("all", "flow"))
    ap.add_argument("--batches", default="daily,weekly,monthly")
    ap.add_argument("--variants", default=",".join(_variant_text(v) for v in VARIANTS),
                    help="rows with deferred commitment and/or the online fill: batch:D (commit_days=D), "
                         "batch:now (pinned at once), then +fill (the online fill) and/or +undated-now "
                         "(hold_undated=False), comma-separated ('' for none)")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds for each solve (default: none)")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--no-plot", action="store_true")
    a = ap.parse_args(argv)
    batches = [b for b in a.batches.split(",") if b]
    bad = [b for b in batches if b not in BATCHES]
    if bad:
        ap.error(f"--batches: unknown frequency {bad[0]!r} (daily, weekly, monthly)")
    try:
        variants = parse_variants(a.variants)
    except ValueError as exc:
        ap.error(f"--variants: {exc}")
    t0 = time.time()
    p = km.synth.region(a.region, employees=a.employees, seed=a.seed, rules=a.rules, year=True)
    instance = (f"km.synth.region({a.region!r}, employees={a.employees}, seed={a.seed}, rules={a.rules!r}, "
                "year=True)")
    res = run(p, batches, seed=a.seed, time_limit=a.time_limit, variants=variants,
              progress=lambda s: print(s, file=sys.stderr, flush=True))
    r: dict[str, Any] = {
        "instance": instance, "region": a.region, "employees": p.n_employees, "missions": p.n_missions,
        "employees_without_joined": int((p.employees.joined == NO_DATE).sum()),
        "seed": a.seed, "rules": a.rules, "batches_asked": batches, "variants_asked": variants,
        "time_limit": a.time_limit, **res,
        "command": "python -m benchmarks.year " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "machine": machine.describe(os.path.dirname(HERE)), "wall_seconds": time.time() - t0,
        "load_average": os.getloadavg(),
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "children_max_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }
    if not a.no_plot:
        os.makedirs(IMG, exist_ok=True)
        path = os.path.join(IMG, f"year_{_slug(a.region, a.employees, a.seed, a.rules)}.png")
        plot(r, path)
        r["plot"] = os.path.relpath(path, os.path.dirname(HERE))
    record_run(a.out, r, ("region", "employees", "seed", "rules"))
    print(table(r))
    return 0


def table(r: dict) -> str:
    """The run as a Markdown table (what docs/year.md quotes)."""
    def f(v: Any, fmt: str) -> str:
        return "–" if v is None else format(v, fmt)

    L = ["| allocation | batches | hours | share of hindsight | team hours (teams) | missions filled | "
         "rural coverage | intermediate coverage | employees assigned | waiting mean (days) | waiting median (days) | "
         "waiting median, joined given | notice median (days) | violations | seconds | s per batch | peak RSS GiB |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        fills = f" + {x['fill_days']} fill" if x.get("fill_days") else ""
        L.append(f"| {x['label']} | {f(x['batches'], 'd')}{fills} | {x['hours']:,.0f} | "
                 f"{f(x['share_of_hindsight'], '.3f')} | "
                 f"{f(x.get('team_hours'), ',.0f')} ({f(x.get('teams_staffed'), 'd')}) | "
                 f"{f(x['missions_filled_share'], '.3f')} | {f(x['coverage_rural'], '.3f')} | "
                 f"{f(x['coverage_intermediate'], '.3f')} | "
                 f"{f(x['employees_assigned_share'], '.3f')} | {f(x['waiting_days_mean'], '.1f')} | "
                 f"{f(x['waiting_days_median'], '.0f')} | {f(x['waiting_days_median_joined'], '.0f')} | "
                 f"{f(x.get('notice_days_median'), '.0f')} | "
                 f"{x['violations']} | {x['seconds']:.1f} | "
                 f"{f(x['seconds_per_batch_mean'], '.3f')} | {x['peak_rss_bytes'] / 2**30:.2f} |")
    return "\n".join(L)


def summary(doc: dict) -> str:
    """Every run of ``year.json`` in one Markdown table: each allocation's share of its hindsight
    optimum, and (in brackets, for the replayed years) the median days from joining to a first
    participation, over the employees with a ``joined`` day."""
    labels = [x["label"] for x in doc["runs"][0]["rows"][1:]] if doc.get("runs") else []
    L = ["| instance | hindsight hours | " + " | ".join(labels) + " |", "|---|---:|" + "---:|" * len(labels)]
    for r in doc.get("runs", []):
        cells = {x["label"]: f"{x['share_of_hindsight']:.3f}" + (
            "" if x["waiting_days_median_joined"] is None else f" ({x['waiting_days_median_joined']:.0f} d)")
            for x in r["rows"][1:]}
        L.append(f"| {r['region']}, {r['employees']:,} employees, seed {r['seed']}, rules `{r['rules']}` | "
                 f"{r['hindsight_hours']:,.0f} | " + " | ".join(cells.get(k, "–") for k in labels) + " |")
    return "\n".join(L)


if __name__ == "__main__":
    raise SystemExit(main())
