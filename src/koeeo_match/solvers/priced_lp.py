"""The LP relaxation of every rule, priced over the implicit full graph: a bound for the whole problem.

:func:`lp_bound` is column generation.  It solves the LP relaxation of the every-rule model
(:func:`~koeeo_match.solvers.lp.lp_prices`) on the arcs it holds, reads the multipliers of the
employees' hours rows and of the missions' seat and team rows as prices, and scans the implicit
full graph (:func:`~koeeo_match.candidates.priced_pairs`) for the arcs whose reduced cost could
be positive; it adds the best of them and solves again.  When a scan finds none, weak duality
with those multipliers (every other row's taken as 0) bounds every assignment over every
eligible arc:

    c x  <=  b'l + sum over held arcs of max(0, c_a - (A'l)_a) + eps * K

where ``eps`` is the reduced cost below which an arc not held is left out (a margin against
HiGHS' tolerances: 8 units of the integer scan scale plus 1e-6 of a score unit) and ``K`` the
most assignments any solution makes.  The reduced cost of an arc not held is bounded with the
rows that cost nothing to price (``h_m`` hours at the employee's hours price, plus the mission's
price); the rows dropped (one mission per date, employer caps and budgets, ``max_per_employer``)
have non-negative multipliers, so the bound only grows looser, never wrong.

The scan tests integer scores against integer prices: for a lexicographic policy, the score of
the primary terms alone (a policy of its own), against prices rounded so that every arc whose
reduced cost exceeds ``eps`` is found; the arcs found are then tested exactly (their reduced cost
in floating point against ``eps / 2``).  One scan per mission duration: the employee's price
depends on it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._arrays import csr_ptr
from ..candidates import (
    ArcTerms,
    CandidateGraph,
    arc_terms,
    filter_eligible,
    in_sorted,
    pair_keys,
    priced_pairs,
    problem_scale,
    score_bounds,
    top_k,
)
from ..model import Problem
from ..policy import IntegerScores, Policy
from ._auto_clock import INTERRUPTED, LP_SETUP_SECONDS_PER_ARC, CtrlC, estimate, fits
from ._structure import hours_unit
from .lp import lp_prices

__all__ = ["lp_bound", "LPBound", "ADD_PER_NODE", "MAX_ROUNDS", "MAX_ARCS"]

log = logging.getLogger(__name__)

#: Per round, each employee's and each mission's ADD_PER_NODE arcs of largest reduced cost are added.
ADD_PER_NODE = 5
#: Column generation stops (without a bound) after this many rounds.
MAX_ROUNDS = 40
#: The LP is solved whole (HiGHS' dual simplex, superlinear): no round starts above this many arcs.
#: Measured: 154,381 arcs (the every-rule instance at a hundredth of the national size) take 2 to
#: 3 s an LP; 3,814,775 (a tenth) had not ended its first LP after 45 minutes (5.1 GB).
MAX_ARCS = 1_000_000


@dataclass
class LPBound:
    """What :func:`lp_bound` found: ``bound`` (the policy's units; None unless ``certified``)."""

    bound: float | None
    certified: bool
    rounds: int
    arcs: int
    message: str
    per_round: list[dict] = field(default_factory=list)
    #: the arcs held at the end (employee, mission): those given and those that priced in
    pairs: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    #: Ctrl-C stopped it
    interrupted: bool = False


#: A lexicographic policy's primary terms are scanned with their weights times SCAN_FACTOR: integer
#: scores fine enough to tell reduced costs of a millionth of a unit apart.
SCAN_FACTOR = 2**20


def _scan_policy(policy: Policy, scale: IntegerScores) -> Policy:
    """The policy whose score the LP maximises: the primary terms alone (times SCAN_FACTOR) when
    lexicographic."""
    if not scale.lexicographic:
        return policy
    return Policy(**{t: getattr(policy, t) * SCAN_FACTOR for t in policy.primary})


def lp_bound(problem: Problem, policy: Policy, ea: np.ndarray, ma: np.ndarray, *,
             deadline: float | None = None, workers: int = 1,
             add_per_node: int = ADD_PER_NODE, max_rounds: int = MAX_ROUNDS) -> LPBound:
    """An upper bound on ``problem``'s optimum, every rule, over every eligible arc: its LP
    relaxation priced from the arcs ``(ea, ma)`` (see the module's docstring).

    Parameters
    ----------
    problem : Problem
    policy : Policy
    ea, ma : ndarray
        The arcs to start from (employee, mission); those not eligible are dropped.
    deadline : float, optional
        A ``time.monotonic()`` time: no round starts after it (and a scan stops at it); the
        result then has no bound.
    workers : int
        Processes of the scan.
    add_per_node, max_rounds : int
        See :data:`ADD_PER_NODE`, :data:`MAX_ROUNDS`.

    Returns
    -------
    LPBound
        ``bound`` is in the policy's units (hours for ``max_hours``), valid for every
        assignment of ``problem`` when ``certified``.

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=150, seed=0, rules="all")
    >>> pol = km.Policy.preset("max_hours")
    >>> g = km.build_candidates(p, pol, k=1)
    >>> b = lp_bound(p, pol, g.employee, g.mission)
    >>> b.certified, b.bound >= km.solve(p, method="cpsat").objective
    (True, True)
    """
    M = problem.n_missions
    if not (problem.missions.seats > 0).any() or not problem.n_employees:  # nothing can be assigned
        none = np.zeros(0, np.int64)
        return LPBound(0.0, True, 0, 0, "nothing can be assigned (no seat or no employee)", [], (none, none))
    scale = problem_scale(problem, policy, max_arcs=0)
    pol_scan = _scan_policy(policy, scale)
    scale_scan = scale if pol_scan is policy else problem_scale(problem, pol_scan, max_arcs=0)
    bounds_scan = score_bounds(problem, pol_scan, scale_scan)
    weighted = [t for t, w in policy.weights().items() if w]
    m = problem.missions
    unit_h = hours_unit(np.concatenate([m.hours, problem.employees.hours,
                                        problem.employers.hours_budget[np.isfinite(problem.employers.hours_budget)]]))
    h_m = np.round(m.hours * unit_h).astype(np.int64)
    h_min = int(h_m[m.seats > 0].min()) if (m.seats > 0).any() else 1
    # the most assignments a solution makes (what eps is multiplied by)
    cap_e = np.round(problem.employees.hours * unit_h).astype(np.int64) // max(h_min, 1)
    K = int(min(int(cap_e.sum()), int(np.maximum(m.seats, 0).sum())))
    ea, ma, km = filter_eligible(problem, np.asarray(ea, np.int64), np.asarray(ma, np.int64))
    keys, first = np.unique(pair_keys(ea, ma, M), return_index=True)  # a pair twice would be two LP columns
    ea, ma, km = ea[first], ma[first], km[first]
    per_round: list[dict] = []
    classes = np.unique(h_m[m.seats > 0])
    E = problem.n_employees
    with CtrlC():  # Ctrl-C ends the rounds (an LP or a scan stops at once): no bound
        for rnd in range(1, max_rounds + 1):
            if (deadline is not None and time.monotonic() > deadline) or INTERRUPTED.is_set():
                return LPBound(None, False, rnd - 1, ea.size, "stopped before its certificate (time limit or Ctrl-C)",
                               per_round, (ea, ma), INTERRUPTED.is_set())
            setup = estimate(LP_SETUP_SECONDS_PER_ARC, ea.size)
            if ea.size > MAX_ARCS or not fits(deadline, 2 * setup):
                why = (f"{ea.size:,} arcs held, above the {MAX_ARCS:,} of an LP solved whole" if ea.size > MAX_ARCS
                       else f"its LP would not end in the time left (setup about {setup:.0f} s)")
                return LPBound(None, False, rnd - 1, ea.size, f"not priced: {why}", per_round, (ea, ma))
            t0 = time.perf_counter()
            terms = arc_terms(problem, ea, ma, km, weighted)
            graph = CandidateGraph(n_employees=E, n_missions=M, employee=ea, mission=ma, ptr=csr_ptr(ea, E), km=km,
                                   terms=ArcTerms(problem, ea, ma, km, terms), score=scale.apply(policy, terms),
                                   scale=scale, policy=policy)
            left = None if deadline is None else max(deadline - time.monotonic(), 0.01)
            pr = lp_prices(problem, graph, left)
            if pr is None:
                why = ("stopped (time limit or Ctrl-C)" if (deadline is not None and time.monotonic() > deadline)
                       or INTERRUPTED.is_set() else "infeasible on the arcs held (forced pairs the team rows of the "
                       "arcs held cannot complete)")
                return LPBound(None, False, rnd, ea.size, f"HiGHS did not solve the LP relaxation: {why}",
                               per_round, (ea, ma), INTERRUPTED.is_set())
            t_lp = time.perf_counter() - t0
            # integer scan scores s relate to the LP's costs c by s = c * R (to within 1/2 when the
            # primary terms are scored by a policy of their own)
            lp_unit = 1.0 if pr.primary else pr.unit
            R = lp_unit * (SCAN_FACTOR * scale_scan.secondary_scale / scale.primary_scale if scale.lexicographic
                           else 1.0)
            eps = 8.0 / R + 1e-6
            lam_h = pr.hours * (unit_h / pr.hours_unit)  # per hour unit of this module (the same unit)
            V = np.floor(R * (pr.mission + eps)).astype(np.int64) - 2
            found: list[tuple[np.ndarray, ...]] = []
            tested = 0
            for h in classes:
                in_class = (h_m == h) & (m.seats > 0)
                Y = np.floor(R * h * lam_h).astype(np.int64)
                v = np.where(in_class, V, 2**61)
                nea, nma, nkm, _, scan = priced_pairs(problem, pol_scan, scale_scan, bounds_scan, Y, v,
                                                      np.zeros(E, bool), in_class, deadline=deadline,
                                                      workers=workers, stop=INTERRUPTED.is_set)
                tested += scan.pairs_tested
                if not scan.complete:
                    return LPBound(None, False, rnd, ea.size, "stopped in a scan (time limit or Ctrl-C)", per_round,
                                   (ea, ma), INTERRUPTED.is_set())
                found.append((nea.astype(np.int64), nma.astype(np.int64), nkm))
            nea = np.concatenate([f[0] for f in found])
            nma = np.concatenate([f[1] for f in found])
            nkm = np.concatenate([f[2] for f in found])
            new = ~in_sorted(pair_keys(nea, nma, M), keys)
            nea, nma, nkm = nea[new], nma[new], nkm[new]
            # the exact test: reduced cost above eps / 2
            nt = arc_terms(problem, nea, nma, nkm, weighted)
            s = scale.apply(policy, nt)
            c = scale.primary(s).astype(np.float64) if pr.primary else s / pr.unit
            rc = c - h_m[nma] * lam_h[nea] - pr.mission[nma]
            bad = rc > eps / 2
            nea, nma, nkm, rc = nea[bad], nma[bad], nkm[bad], rc[bad]
            per_round.append({"arcs": int(ea.size), "lp_seconds": round(t_lp, 3),
                              "scan_seconds": round(time.perf_counter() - t0 - t_lp, 3), "pairs_tested": int(tested),
                              "priced_out": int(nea.size), "dual": pr.dual})
            log.info("LP pricing round %d: %s arcs, LP %.1f s (dual %.6g), %s arcs price out", rnd, f"{ea.size:,}",
                     t_lp, pr.dual, f"{nea.size:,}")
            if nea.size == 0:
                whole = pr.dual + eps * K
                total = math.floor(whole) * scale.multiplier if pr.primary else whole * pr.unit
                bound = scale.primary_bound(total)
                return LPBound(bound, True, rnd, ea.size, "LP relaxation priced over every eligible arc", per_round,
                               (ea, ma))
            keep = top_k(nea, rc, add_per_node) | top_k(nma, rc, add_per_node)
            ea = np.concatenate([ea, nea[keep]])
            ma = np.concatenate([ma, nma[keep]])
            km = np.concatenate([km, nkm[keep]])
            keys = pair_keys(ea, ma, M)
            order = np.argsort(keys, kind="stable")
            ea, ma, km, keys = ea[order], ma[order], km[order], keys[order]
        return LPBound(None, False, max_rounds, ea.size, f"no certificate after {max_rounds} rounds", per_round,
                       (ea, ma))
