"""Where a year of weekly batches loses its team missions: ``python -m benchmarks.year_teams [--region R]
[--employees N] [--seed S] [--leads D,D]``.

On ``km.synth.region(R, employees=N, seed=S, rules="all", year=True)`` (default Occitanie, 3,000
employees, seed 0), compares the weekly year with deferred commitment (0 days) and the online fill
(``km.simulate(..., batch="weekly", commit_days=0, fill=True)``, the best weekly variant of
``benchmarks.year``) with the weekly batch-known optimum (``km.solve`` of
:func:`koeeo_match.batching.batch_known`: what weekly batches could place knowing the year):

- the hours each places on team missions (``min_seats > 1``) and on the others;
- the teams the batch-known optimum staffs and the year does not (*lost*), and for each volunteer
  the optimum gives them, when the year confirmed that employee elsewhere: before the team was
  posted, after it, or never (and whether the employee had joined by the posting);
- the same year in counterfactual years that know more, each with its hindsight optimum (the
  same as the real one: what can be assigned does not change, only when it is known):
  every dated team mission posted ``D`` days before its date when it was posted later (the first
  known day at the earliest), for each ``D`` of ``--leads`` (default 56 and 365: eight weeks
  ahead, and every dated team known from the first day); every employee known from the first
  day but available only after the day it joined (:func:`arrivals_known`: the batches know who
  will join, and when); and both, arrivals known and teams known from the first day.

The result goes to the ``team_losses`` section of ``benchmarks/results/year.json`` (keyed by
region, employees and seed), with the command, the machine and the load average.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from typing import Any

import numpy as np

import koeeo_match as km
from koeeo_match.batching import batch_known
from koeeo_match.model import NO_DATE

from . import machine
from .common import record_run
from .year import OUT, _day


def _split(problem: km.Problem, missions: np.ndarray) -> dict[str, float]:
    """Hours on team missions and on the others, of the assigned ``missions`` (indices, one per pair)."""
    M = problem.missions
    team = M.min_seats[missions] > 1
    return {"team_hours": float(M.hours[missions[team]].sum()), "other_hours": float(M.hours[missions[~team]].sum())}


def _index(ids: np.ndarray, of: np.ndarray) -> np.ndarray:
    pos = {x: i for i, x in enumerate(ids.tolist())}
    return np.array([pos[x] for x in of.tolist()], np.int64)


def posted_earlier(problem: km.Problem, lead: int) -> km.Problem:
    """``problem`` with each dated team mission posted ``lead`` days before its date when it was
    posted later (no earlier than the first day anything is known)."""
    M, E = problem.missions, problem.employees
    known = np.concatenate([M.posted[M.posted != NO_DATE], E.joined[E.joined != NO_DATE]]).astype(np.int64)
    first = int(known.min()) if known.size else int(M.date[M.date != NO_DATE].min()) - 1
    posted = M.posted.astype(np.int64)
    sel = (M.min_seats > 1) & (M.date != NO_DATE)
    earlier = np.maximum(M.date[sel].astype(np.int64) - lead, first)
    posted[sel] = np.where(M.posted[sel] == NO_DATE, M.posted[sel], np.minimum(posted[sel], earlier))
    return dataclasses.replace(problem, missions=dataclasses.replace(M, posted=posted.astype(np.int32)))


def arrivals_known(problem: km.Problem) -> km.Problem:
    """``problem`` with every employee known from the first day (no ``joined``) but available only
    from the day after it joined: the same pairs are eligible (a pair needs ``joined < date``), and
    every batch knows who will join and when.

    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=40, seed=0, year=True)
    >>> q = arrivals_known(p)
    >>> g, h = km.build_candidates(p, "max_hours"), km.build_candidates(q, "max_hours")
    >>> bool((q.employees.joined == km.model.NO_DATE).all()), len(g) == len(h) > 0
    (True, True)
    >>> bool((g.employee == h.employee).all() and (g.mission == h.mission).all())
    True
    """
    E = problem.employees
    last = int(np.iinfo(np.int32).max) - 1
    joined = E.joined.astype(np.int64)
    has = joined != NO_DATE
    owner = np.repeat(np.arange(len(E)), np.diff(E.avail_ptr))
    start = np.where(has[owner], np.maximum(E.avail_start, joined[owner] + 1), E.avail_start)
    keep = start <= E.avail_end
    always = E.always_available & has  # available from the day after it joined
    owner = np.concatenate([owner[keep], np.flatnonzero(always)])
    start = np.concatenate([start[keep], joined[always] + 1])
    end = np.concatenate([E.avail_end[keep].astype(np.int64), np.full(int(always.sum()), last)])
    order = np.lexsort((start, owner))
    ptr = np.zeros(len(E) + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=len(E)), out=ptr[1:])
    employees = dataclasses.replace(E, joined=np.full(len(E), NO_DATE, np.int32),
                                    always_available=E.always_available & ~has, avail_ptr=ptr,
                                    avail_start=start[order].astype(np.int32), avail_end=end[order].astype(np.int32))
    return dataclasses.replace(problem, employees=employees)


def diagnose(problem: km.Problem, *, seed: int = 0, leads: tuple[int, ...] = (56, 365)) -> dict[str, Any]:
    """The figures of the module's docstring for one problem with days."""
    E, M = problem.employees, problem.missions
    t = time.perf_counter()
    known = batch_known(problem, "weekly")
    ceiling = km.solve(known, method="auto", seed=seed)
    ce, cm = _index(E.ids, ceiling.employee_ids), _index(M.ids, ceiling.mission_ids)
    year = km.simulate(problem, batch="weekly", method="auto", seed=seed, commit_days=0, fill=True)
    ym = np.asarray(year.solution.mission, np.int64)
    team = M.min_seats > 1
    in_ceiling = np.bincount(cm, minlength=len(M)) > 0
    in_year = np.bincount(ym, minlength=len(M)) > 0
    lost = np.flatnonzero(team & in_ceiling & ~in_year)
    confirmed = np.full(len(E), -1, np.int64)  # the day of each employee's first confirmation in the year
    epos = {x: i for i, x in enumerate(E.ids.tolist())}
    for b in reversed(year.batches):
        for e, _ in b.assignments:
            confirmed[epos[e]] = _day(b.date)
    fate = {"confirmed_before_posting": 0, "confirmed_after_posting": 0, "never_confirmed": 0}
    joined_by_posting = 0
    for j in lost.tolist():
        members = ce[cm == j]
        when = confirmed[members]
        fate["never_confirmed"] += int((when < 0).sum())
        fate["confirmed_before_posting"] += int(((when >= 0) & (when < M.posted[j])).sum())
        fate["confirmed_after_posting"] += int((when >= M.posted[j]).sum())
        joined = E.joined[members]
        joined_by_posting += int(((joined == NO_DATE) | (joined <= M.posted[j])).sum())
    hindsight = km.solve(problem, method="auto", seed=seed)
    known_more = []
    worlds = [(f"dated teams posted {lead} days ahead", lead, False) for lead in leads]
    worlds += [("arrivals known", None, True), (f"arrivals known, dated teams posted {max(leads, default=365)} "
                                                "days ahead", max(leads, default=365), True)]
    for name, lead, arrivals in worlds:
        q = arrivals_known(problem) if arrivals else problem
        q = q if lead is None else posted_earlier(q, lead)
        q_year = km.simulate(q, batch="weekly", method="auto", seed=seed, commit_days=0, fill=True)
        qm = np.asarray(q_year.solution.mission, np.int64)
        known_more.append({"name": name, "teams_posted_ahead_days": lead, "arrivals_known": arrivals,
                           "hindsight_hours": km.solve(q, method="auto", seed=seed).objective,
                           "hours": q_year.solution.objective, **_split(q, qm),
                           "teams": int((team & (np.bincount(qm, minlength=len(M)) > 0)).sum()),
                           "violations": len(km.check(q, q_year.solution))})
    return {
        "hindsight_hours": hindsight.objective,
        "batch_known_weekly": {"hours": ceiling.objective, **_split(known, np.asarray(ceiling.mission, np.int64)),
                               "teams": int((team & in_ceiling).sum())},
        "weekly_deferred_0_fill": {"hours": year.solution.objective, **_split(problem, ym),
                                   "teams": int((team & in_year).sum()),
                                   "violations": len(km.check(problem, year.solution))},
        "lost_teams": int(lost.size), "lost_team_hours": float(
            M.hours[lost] @ np.bincount(cm, minlength=len(M))[lost]) if lost.size else 0.0,
        "gained_teams": int((team & in_year & ~in_ceiling).sum()),
        "lost_team_volunteers": int(sum(fate.values())), **fate, "joined_by_posting": joined_by_posting,
        "known_more": known_more,
        "seconds": time.perf_counter() - t,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--region", default="Occitanie")
    ap.add_argument("--employees", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--leads", default="56,365", help="days before its date a team mission is posted, at the "
                                                       "latest, in each counterfactual year (comma-separated)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    p = km.synth.region(a.region, employees=a.employees, seed=a.seed, rules="all", year=True)
    instance = f"km.synth.region({a.region!r}, employees={a.employees}, seed={a.seed}, rules='all', year=True)"
    leads = tuple(int(x) for x in a.leads.split(",") if x)
    r = {"instance": instance, "region": a.region, "employees": a.employees, "seed": a.seed,
         **diagnose(p, seed=a.seed, leads=leads),
         "command": "python -m benchmarks.year_teams " + shlex.join(argv if argv is not None else sys.argv[1:]),
         "machine": machine.describe(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
         "load_average": os.getloadavg()}
    record_run(a.out, r, ("region", "employees", "seed"), section="team_losses")
    print({k: v for k, v in r.items() if k not in ("machine",)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
