"""greedy and fcfs against a one-arc-at-a-time reference written from the rules (DESIGN.md §4).

The solvers settle their scans by vectorised rounds and then one by one over
what the rounds leave (koeeo_match.solvers._ledger); the reference below tries
each arc in turn with plain dicts.  Both must choose exactly the same arcs,
whichever share of the scan the rounds settle (``_PAYS``), however the
queues are cut into slices (``_CHUNK``) and however many arcs each take tries at once
(``_TAKE_MIN``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

import koeeo_match as km

NO_DATE = np.iinfo(np.int32).min


def _units(x: float) -> int:
    return int(np.rint(x * 10**6))  # the synthetic hours are multiples of 1/2 h: exact


class _Reference:
    """Capacities left, in dicts, for one arc at a time."""

    def __init__(self, p: km.Problem, g):
        self.p, self.g = p, g
        self.used: dict = defaultdict(int)
        self.taken: set[int] = set()

    def _groups(self, a: int) -> list[tuple[tuple, int, int]]:
        """(group, amount, limit) of each rule arc ``a`` falls under."""
        p, e, m = self.p, int(self.g.employee[a]), int(self.g.mission[a])
        h = _units(p.missions.hours[m])
        er, d = int(p.employees.employer[e]), int(p.missions.date[m])
        out = [(("hours", e), h, _units(p.employees.hours[e])), (("seats", m), 1, int(p.missions.seats[m]))]
        if d != NO_DATE:
            out.append((("day", e, d), 1, 1))
        if er >= 0 and p.missions.max_per_employer[m] >= 0:
            out.append((("mc", m, er), 1, int(p.missions.max_per_employer[m])))
        if er >= 0 and d != NO_DATE and p.employers.daily_cap[er] >= 0:
            out.append((("cd", er, d), 1, int(p.employers.daily_cap[er])))
        if er >= 0 and np.isfinite(p.employers.hours_budget[er]):
            out.append((("budget", er), h, _units(p.employers.hours_budget[er])))
        return out

    def try_take(self, a: int) -> None:
        groups = self._groups(a)
        if a in self.taken or any(self.used[k] + c > cap for k, c, cap in groups):
            return
        self.taken.add(a)
        for k, c, _ in groups:
            self.used[k] += c

    def cancel_short(self, keep: set[int] = frozenset()) -> set[int]:
        """Release every arc of the teams below their minimum; returns those missions."""
        p, mission = self.p, self.g.mission
        count = np.bincount(mission[sorted(self.taken)].astype(np.int64), minlength=p.n_missions)
        short = {int(m) for m in np.flatnonzero((count > 0) & (count < p.missions.min_seats))} - keep
        for a in [a for a in self.taken if int(mission[a]) in short]:
            self.taken.discard(a)
            for k, c, _ in self._groups(a):
                self.used[k] -= c
        return short


def reference_greedy(p: km.Problem, g) -> set[int]:
    led = _Reference(p, g)
    order = [a for a in np.argsort(-g.score, kind="stable").tolist() if g.score[a] > 0]
    closed: set[int] = set()
    scan = order
    for _ in range(100):
        for a in scan:
            if int(g.mission[a]) not in closed:
                led.try_take(a)
        before = set(led.taken)
        short = led.cancel_short()
        if not short:
            return led.taken
        closed |= short
        released = {int(g.employee[a]) for a in before - led.taken}
        scan = [a for a in order if int(g.employee[a]) in released and int(g.mission[a]) not in closed]
    led.cancel_short()
    return led.taken


def reference_fcfs(p: km.Problem, g, seed: int) -> set[int]:
    led = _Reference(p, g)
    for e in np.random.default_rng(seed).permutation(p.n_employees).tolist():
        mine = np.flatnonzero(g.employee == e)
        for a in mine[np.argsort(-g.score[mine], kind="stable")].tolist():
            if g.score[a] > 0:
                led.try_take(a)
    led.cancel_short()
    return led.taken


def _pairs(g, arcs) -> list[tuple[int, int]]:
    return sorted((int(g.employee[a]), int(g.mission[a])) for a in arcs)


def _solution_pairs(s: km.Solution) -> list[tuple[int, int]]:
    return sorted(zip(s.employee.tolist(), s.mission.tolist()))


@pytest.mark.parametrize("pays", [0, 20, 10**9], ids=["one-by-one", "default", "rounds-only"])
@pytest.mark.parametrize("chunk", [5, 1 << 20], ids=["small-slices", "one-slice"])
@pytest.mark.parametrize("take", [7, 1 << 18], ids=["takes-of-7", "one-take"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("policy", ["max_hours", "balanced"])
def test_greedy_and_fcfs_match_the_reference(monkeypatch, pays, chunk, take, seed, policy):
    monkeypatch.setattr("koeeo_match.solvers._ledger._PAYS", pays)
    monkeypatch.setattr("koeeo_match.solvers._ledger._CHUNK", chunk)
    monkeypatch.setattr("koeeo_match.solvers._ledger._TAKE_MIN", take)  # arcs tried a slice at a time
    p = km.synth.city(employees=120 * seed, seed=seed)
    g = km.build_candidates(p, km.Policy.preset(policy))
    greedy = km.solve(p, method="greedy", policy=policy)
    assert _solution_pairs(greedy) == _pairs(g, reference_greedy(p, g))
    fcfs = km.solve(p, method="fcfs", policy=policy, seed=seed)
    assert _solution_pairs(fcfs) == _pairs(g, reference_fcfs(p, g, seed))
    assert km.check(p, greedy) == [] and km.check(p, fcfs) == []
