"""The flow side of a priced solve: a network kept from round to round, and its prices.

:class:`PricedFlow` solves the min-cost flow of the arcs a priced solve holds
(:mod:`koeeo_match.solvers.priced`) and reads the prices of employees and missions from the
potentials that certify it (:mod:`._potentials`).  Nodes are keyed by what they stand for
(an employee, an [employee, date], a mission, a [mission, employer]), so that a round starts
from the last round's flow and potentials: when the arcs added only move the prices, that flow
is kept (:func:`_still_optimal`); otherwise the flow is solved again (:mod:`._mcf`).  Either way the
potentials are computed afresh, and certify it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._malloc import release_memory
from ..candidates import CandidateGraph
from ..decompose import Part, components, cut
from ..errors import SolverError
from ..model import Problem
from ..parallel import Remote, default_workers, run_parts
from ._potentials import potentials, reduced_costs_ok, residual
from ._structure import structure
from .flow import PART_ARCS, FlowJob, Network, _layers, network, run_flow_job

__all__ = ["PricedFlow", "NEVER", "STOP_ARCS"]

log = logging.getLogger(__name__)

#: The price of a node that can take nothing: no arc of it is ever worth adding.
NEVER = 2**61
#: A flow of more arcs than this runs in processes that a deadline or Ctrl-C can kill (about 1 s of
#: flow, :data:`~._auto_clock.PRICED_SECONDS_PER_ARC`); a smaller one runs here, whole.
STOP_ARCS = 250_000
#: Bellman-Ford passes that may settle the last flow's potentials on a grown network (:func:`_still_optimal`).
REPAIR_PASSES = 200
#: ... tried only when the arcs added since the last flow are at most this share of the arcs solved.
REPAIR_SHARE = 0.1
#: ... and given up when the nodes a pass improves have not fallen by a tenth over REPAIR_STALL passes
#: (after twice as many): a negative cycle, the flow is no longer optimal.
REPAIR_STALL = 10


def _flows(job: FlowJob) -> np.ndarray:
    """The optimal flow on every arc of a job's network, the bypass last."""
    f, _ = run_flow_job(job)
    return np.append(f, job.supply - int(f[job.head == 1].sum()))  # the bypass: what the sink does not take


_EMPTY = np.zeros(0, np.int64)
_KIND_SHIFT = 58  # node keys: kind << 58 | value (1 employee, 2 [employee, date], 3 mission, 4 [mission, employer])


@dataclass
class _Net:
    """The network of the arcs solved, as one: the parts' sources and sinks merged (nodes 0 and
    1), their bypasses summed.  ``arc_of[i]``: the graph arc of network arc ``i`` (-1: a layer
    arc); ``key[n]``: what node ``n`` stands for, stable from one round to the next."""

    tail: np.ndarray
    head: np.ndarray
    cap: np.ndarray
    cost: np.ndarray
    kind: np.ndarray
    arc_of: np.ndarray
    key: np.ndarray
    supply: int  # every employee's capacity, not only those of the network's arcs
    bypass_cost: int
    # each part's arcs (start, end), the shift of its nodes above the sink, and its candidate arcs
    parts: list[tuple[int, int, int, int]] = field(default_factory=list)


def _node_keys(problem: Problem, graph: CandidateGraph, ed_grp: np.ndarray | None, mc_grp: np.ndarray | None,
               net: Network, part: Part) -> np.ndarray:
    """The key of each node of a part's network (S and T: 0 and 1)."""
    keys = np.zeros(int(max(net.tail.max(), net.head.max())) + 1, np.int64)
    keys[1] = 1
    arcs = part.arcs
    cand = slice(net.first, net.first + net.n_candidates)
    ea, ma = graph.employee[arcs].astype(np.int64), graph.mission[arcs].astype(np.int64)
    left = np.int64(1) << _KIND_SHIFT | ea
    if ed_grp is not None:
        lay = ed_grp[arcs] >= 0
        date = problem.missions.date[ma[lay]].astype(np.int64) + 2**21
        left[lay] = np.int64(2) << _KIND_SHIFT | ea[lay] << 22 | (date & (2**22 - 1))
    right = np.int64(3) << _KIND_SHIFT | ma
    if mc_grp is not None:
        lay = mc_grp[arcs] >= 0
        emp = problem.employees.employer[ea[lay]].astype(np.int64)
        right[lay] = np.int64(4) << _KIND_SHIFT | ma[lay] << 24 | emp
    keys[net.tail[cand]] = left
    keys[net.head[cand]] = right
    base = net.kind == 0  # source -> employee arcs: their heads are the employees' own nodes
    keys[net.head[base]] = np.int64(1) << _KIND_SHIFT | part.employees[net.employee[net.head[base]]]
    to_t = net.kind == 4
    keys[net.tail[to_t]] = np.int64(3) << _KIND_SHIFT | part.missions[net.mission[net.tail[to_t]]]
    return keys


@dataclass
class _Built:
    """The networks of a graph's parts, built in this process and kept for a solve, with what
    their merge (:func:`_merged`) needs."""

    parts: list[Part]
    nets: list[Network]
    ed_grp: np.ndarray | None
    mc_grp: np.ndarray | None
    supply: int  # every employee's capacity, not only those of the network's arcs
    offset: int  # the bypass's cost


def _build(problem: Problem, graph: CandidateGraph, k: np.ndarray, uniform: int | None) -> _Built:
    """The networks of ``graph``: one per part (connected components packed by
    :data:`~.flow.PART_ARCS`)."""
    E, M = problem.n_employees, problem.n_missions
    ka, kmis = graph.employee, graph.mission
    st = structure(problem, graph)  # places pinned pairs took (problem.taken) are taken here
    ed_grp, mc_grp = _layers(st, k, np.arange(len(graph)), ka, True)
    offset = 0 if uniform is None else uniform
    ctx = (ka, kmis, k, ed_grp, mc_grp, st.mc_cap, problem.missions.seats.astype(np.int64),
           offset - graph.score, uniform is not None)
    _, label = components(E, M, ka, kmis)
    parts = cut(ka, kmis, E, M, PART_ARCS, label=label[ka]) if len(graph) else []
    nets = [network(ctx, p) for p in parts]
    return _Built(parts, nets, ed_grp, mc_grp, int(k[k > 0].sum()), offset)


def _merged(problem: Problem, graph: CandidateGraph, built: _Built) -> _Net:
    """The parts' networks of ``built`` as one (:class:`_Net`), each part's arcs a slice of it
    (``parts``: what :func:`_solve` sends to each part's flow).  ``built.nets`` is consumed column by
    column (each part's column freed once copied): the merge holds about one network, not three
    (a national round's peak, 2 GiB above the flow's)."""
    nets = built.nets
    n_local = [int(max(net.tail.max(), net.head.max())) + 1 for net in nets]
    shift = np.cumsum([0] + [n - 2 for n in n_local])[:-1]  # part-local node v >= 2 is 2 + shift + (v - 2)
    keys = [_node_keys(problem, graph, built.ed_grp, built.mc_grp, net, part)[2:]
            for part, net in zip(built.parts, nets)]
    # (a comprehension: no loop variable left holding the last part's network during the merge)
    nets[:] = [dataclasses.replace(net, employee=_EMPTY, mission=_EMPTY) for net in nets]  # read by the keys only
    sizes = [net.tail.size for net in nets]
    total = int(sum(sizes))
    starts = np.cumsum([0] + sizes)

    def column(name: str | None, dt: type, fill: Callable[[int, Network, np.ndarray], None]) -> np.ndarray:
        out: np.ndarray = np.empty(total, dt)
        for i, net in enumerate(nets):
            fill(i, net, out[starts[i]:starts[i + 1]])
            if name is not None:
                nets[i] = dataclasses.replace(net, **{name: _EMPTY})  # type: ignore[arg-type]  # freed
        return out

    def nodes(name: str) -> Callable[[int, Network, np.ndarray], None]:
        def fill(i: int, net: Network, out: np.ndarray) -> None:
            v = getattr(net, name)
            np.add(v, shift[i], out=out)
            hub = v < 2  # the source and the sink, shared
            out[hub] = v[hub]
        return fill

    def arcs(i: int, net: Network, out: np.ndarray) -> None:
        out.fill(-1)
        out[net.first : net.first + net.n_candidates] = built.parts[i].arcs

    def same(name: str) -> Callable[[int, Network, np.ndarray], None]:
        return lambda i, net, out: np.copyto(out, getattr(net, name), casting="unsafe")

    arc = column(None, np.int64, arcs)
    t, h = column("tail", np.int64, nodes("tail")), column("head", np.int64, nodes("head"))
    c, w = column("capacity", np.int64, same("capacity")), column("cost", np.int64, same("cost"))
    kind = column("kind", np.int8, same("kind"))
    key = np.concatenate([np.array([0, 1], np.int64)] + [k.astype(np.int64, copy=False) for k in keys])
    built.nets = []
    parts = [(int(starts[i]), int(starts[i + 1]), int(shift[i]), len(part)) for i, part in enumerate(built.parts)]
    # the bypass carries every employee's unused capacity, those without an arc here included:
    # its flow sets the prices of the employees and missions outside the network
    return _Net(t, h, c, w, kind, arc, key, built.supply, built.offset, parts)


def _part_job(net: _Net, i: int, by_max_flow: bool, compact: bool = False) -> FlowJob:
    """The :class:`~.flow.FlowJob` of part ``i`` of ``net``, its nodes numbered as in the part's
    own network: views of ``net``'s arrays for the first part (the largest), copies for others;
    ``compact``: nodes as ``int32``, for an executor (what travels)."""
    s, e, shift, _ = net.parts[i]
    t, h, c, kind = net.tail[s:e], net.head[s:e], net.cap[s:e], net.kind[s:e]
    if shift:
        t, h = np.where(t < 2, t, t - shift), np.where(h < 2, h, h - shift)
    if compact:
        t, h = t.astype(np.int32), h.astype(np.int32)
    return FlowJob(t, h, c, net.cost[s:e], int(c[kind == 0].sum()), by_max_flow, 0, e - s)


def _part_flows(net: _Net, i: int, by_max_flow: bool) -> np.ndarray:
    """:func:`_flows` of part ``i`` of ``net`` (its job made where it runs: a forked process
    reads ``net`` without a copy)."""
    return _flows(_part_job(net, i, by_max_flow))


def _solve(net: _Net, by_max_flow: bool, workers: int, executor: Any = None,
           stop: Callable[[], bool] | None = None) -> np.ndarray:
    """The optimal flow of every arc of ``net``: its parts solved apart (:mod:`._mcf`), on a
    process pool when large.  ``executor``: where the parts are solved
    (:func:`~koeeo_match.parallel.run_parts`; each sent with only its own arrays).  ``stop``: on
    a graph of over :data:`STOP_ARCS` arcs, the parts are solved in forked processes (which
    inherit the network, so that only the flows come back) that ``stop`` answering True kills
    (:class:`~koeeo_match.parallel.PartsStopped`)."""
    sizes = [p[3] for p in net.parts]
    if executor is not None:
        jobs = [(_part_job(net, i, by_max_flow, compact=True),) for i in range(len(sizes))]
        flows = run_parts(_flows, jobs, executor=executor, remote=Remote(_flows, lambda job: (job,), "flow part"))
    else:
        n_arcs = sum(sizes)
        n_proc = (workers or default_workers()) if n_arcs > 300_000 else 1
        flows = run_parts(_part_flows, [(net, i, by_max_flow) for i in range(len(sizes))], n_proc, sizes,
                          stop=stop if n_arcs > STOP_ARCS else None)
    return np.concatenate([f[:-1] for f in flows]).astype(np.int64, copy=False) if flows else np.zeros(0, np.int64)


def _flows_of(net: _Net, chosen: np.ndarray) -> np.ndarray:
    """The flow on every arc of ``net`` when the graph arcs ``chosen`` (a mask) carry one unit."""
    f = np.zeros(net.tail.size, np.int64)
    cand = net.arc_of >= 0
    f[cand] = chosen[net.arc_of[cand]]
    n = net.key.size
    out_of = np.bincount(net.tail[cand], weights=f[cand], minlength=n)  # flow leaving L nodes
    into = np.bincount(net.head[cand], weights=f[cand], minlength=n)  # flow entering R nodes
    for layer, by_head in ((1, True), (3, False)):  # [employee, date] and [mission, employer] layers
        on = net.kind == layer
        f[on] = (out_of[net.head[on]] if by_head else into[net.tail[on]]).astype(np.int64)
    lay1 = net.kind == 1
    out_of = out_of + np.bincount(net.tail[lay1], weights=f[lay1], minlength=n)
    lay3 = net.kind == 3
    into = into + np.bincount(net.head[lay3], weights=f[lay3], minlength=n)
    on = net.kind == 0
    f[on] = out_of[net.head[on]].astype(np.int64)
    on = net.kind == 4
    f[on] = into[net.tail[on]].astype(np.int64)
    return f


def _residual(net: _Net, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual arcs (tail, head, cost) of the flow ``f`` on ``net``
    (:func:`._potentials.residual`), the merged bypass included: it carries every unit of
    capacity not assigned, at ``net.bypass_cost``."""
    by_flow = net.supply - int(f[net.kind == 4].sum())
    bypass = [(0, 1, net.bypass_cost)] if by_flow < net.supply else []  # forward, then backward
    if by_flow > 0:
        bypass.append((1, 0, -net.bypass_cost))
    bt, bh, bw = (np.array(x, np.int64) for x in zip(*bypass)) if bypass else (np.zeros(0, np.int64),) * 3
    # sorted by tail, as the potentials read them (one copy at a time: the peak of a national round)
    return residual(net.tail, net.head, net.cap, net.cost, f, extra=(bt, bh, bw), by_tail=True)


def _raise_idle(net: _Net, f: np.ndarray, d: np.ndarray) -> None:
    """Nodes without flow take the potential most favourable to pricing: an employee's (or
    [employee, date]'s) that of its source side, a mission's (or [mission, employer]'s) that of
    its sink side.  Every residual arc keeps a non-negative reduced cost.  Only through an arc
    that could carry flow: a node whose arc has no capacity (a [mission, employer] whose places
    pinned pairs took, ``fixed=``) keeps its distance, which its own arcs respect."""
    for layer, up in ((0, True), (1, True), (4, False), (3, False)):
        on = (net.kind == layer) & (f == 0) & (net.cap > 0)
        if up:
            d[net.head[on]] = d[net.tail[on]]
        else:
            d[net.tail[on]] = d[net.head[on]]


def _certify(net: _Net, f: np.ndarray) -> np.ndarray:
    """Potentials certifying the flow ``f`` (checked in integers): shortest distances from the
    source in its residual network.

    Of all the potentials that certify a flow, these are the market's: an assigned employee's
    price is its advantage over the best employee that could take its place, a full mission's
    the score of the best employee it turns away, so that ``y[e] + v[m]`` equals the score of
    every arc used (distances from a virtual root joined to every node would give the
    potentials closest to 0, and price every assigned employee at 0: every arc of it to a
    mission with a free seat would then price out).  A node the source does not reach keeps a
    potential of 2**60 unless an arc bounds it.
    """
    rt, rh, rw = _residual(net, f)
    d0 = np.full(net.key.size, 2**60, np.int64)
    d0[0] = 0
    d = potentials(net.key.size, rt, rh, rw, d0=d0)
    assert d is not None
    _raise_idle(net, f, d)
    if not reduced_costs_ok(d, rt, rh, rw):
        raise SolverError("pricing: the flow's potentials do not certify it (internal error).")
    return d


def _prices(problem: Problem, net: _Net, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The prices of employees (``y``) and missions (``v``) read from potentials ``d``: for each,
    the least favourable of its nodes, relative to the sink (score units)."""
    E, M = problem.n_employees, problem.n_missions
    kind = net.key >> _KIND_SHIFT
    val = net.key & ((np.int64(1) << _KIND_SHIFT) - 1)
    offset = net.bypass_cost
    y = np.full(E, int(d[0] - d[1]) + offset, np.int64)
    v = np.zeros(M, np.int64)
    emp = np.where(kind == 1, val, np.where(kind == 2, val >> 22, -1))
    on = emp >= 0
    if on.any():
        lo = np.full(E, NEVER, np.int64)
        np.minimum.at(lo, emp[on], d[on] - d[1] + offset)
        y = np.where(lo < NEVER, lo, y)
    mis = np.where(kind == 3, val, np.where(kind == 4, val >> 24, -1))
    on = mis >= 0
    if on.any():
        hi = np.full(M, -NEVER, np.int64)
        np.maximum.at(hi, mis[on], d[on])
        v = np.where(hi > -NEVER, d[1] - hi, v)
    return y, v


class PricedFlow:
    """The flow of the arcs solved, kept from round to round: the first round, and any round
    whose arcs added change the assignment, is solved from scratch (:mod:`._mcf`); a later round
    keeps the last optimal flow when its potentials show it still optimal
    (:func:`_still_optimal`).  Every round's flow is certified."""

    def __init__(self, problem: Problem, k: np.ndarray, uniform: int | None, workers: int, executor: Any = None,
                 stop: Callable[[], bool] | None = None):
        self.problem, self.k, self.uniform, self.workers = problem, k, uniform, workers
        self.executor = executor  # where the parts' networks are solved (None: local processes)
        self.stop = stop  # kills a large flow's processes (PartsStopped): a deadline, Ctrl-C
        self.full_solves = 0
        self.kept_flows = 0
        self.last_kept = False  # whether the last round kept its flow
        self._keys: np.ndarray | None = None  # the last certified network's node keys, sorted
        self._d: np.ndarray | None = None  # and their potentials

    def solve(self, graph: CandidateGraph, chosen: np.ndarray | None,
              added: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(selected arcs of ``graph``, prices y, v).  ``chosen``: the arcs of ``graph`` the last
        optimal flow used (None: solve from scratch); ``added``: how many of its arcs the last
        flow did not have (when few, that flow may still be optimal: :func:`_still_optimal`)."""
        # the parts' networks, built once per round, merged (the merge consumes them): the check and
        # the flow both read the merged network, the flow each part's slice of it
        net = _merged(self.problem, graph, _build(self.problem, graph, self.k, self.uniform))
        d = None
        if (chosen is not None and self._keys is not None and self._d is not None
                and added <= REPAIR_SHARE * len(graph)):
            t_w = time.perf_counter()
            f = _flows_of(net, chosen)
            if _still_optimal(net, f, _mapped(net, self._keys, self._d), self.stop):
                d = _certify(net, f)
            else:
                del f  # not beside the flow's processes
            log.debug("pricing: the last flow %s on %d arcs (%.2f s)", "stays optimal" if d is not None else
                      "is not optimal", len(graph), time.perf_counter() - t_w)
        if d is None:  # solved from scratch
            release_memory()  # the heap freed since the last round, before the flow's processes fork
            f = _solve(net, self.uniform is not None, self.workers, self.executor, self.stop)
            d = _certify(net, f)
            self.full_solves += 1
            self.last_kept = False
        else:
            self.kept_flows += 1
            self.last_kept = True
        assert net is not None
        order = np.argsort(net.key, kind="stable")
        self._keys, self._d = net.key[order], d[order]
        cand = (net.arc_of >= 0) & (f > 0)
        y, v = _prices(self.problem, net, d)
        return np.sort(net.arc_of[cand]), y, v


def _mapped(net: _Net, keys: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Potentials for the nodes of ``net`` from those of an earlier network (``keys`` sorted,
    ``d`` theirs): a node it did not have, or that its source did not reach, starts at 0."""
    out = np.zeros(net.key.size, np.int64)
    if keys.size:
        pos = np.minimum(np.searchsorted(keys, net.key), keys.size - 1)
        hit = (keys[pos] == net.key) & (d[pos] < 2**59)
        out[hit] = d[pos[hit]]
    return out


def _still_optimal(net: _Net, f0: np.ndarray, d0: np.ndarray, stop: Callable[[], bool] | None = None) -> bool:
    """Whether the flow ``f0``, optimal before arcs were added to ``net`` (and others, without
    flow, left out), is still optimal: the potentials ``d0`` that certified it, lowered by a
    Bellman-Ford from the arcs they no longer certify, settle (no negative cycle) within
    :data:`REPAIR_PASSES` passes, the nodes it improves falling (:data:`REPAIR_STALL`).
    Most late rounds of a pricing add arcs that change the prices only; this spares them a
    flow.  ``stop`` answering True (a deadline, Ctrl-C) between passes gives up: the flow solved
    next is then stopped where it runs."""
    if (f0 > net.cap).any():  # a place the network no longer has (never seen): not a flow of it
        return False
    d = d0.copy()
    _raise_idle(net, f0, d)
    rt, rh, rw = _residual(net, f0)
    return potentials(net.key.size, rt, rh, rw, d0=d, max_passes=REPAIR_PASSES, stall=REPAIR_STALL,
                      stop=stop) is not None
