"""How a solve ended: :class:`Status` (what was found) and :class:`Termination` (why the search stopped).

Both are shared by the solvers, the solution and the files, and sit low so
that the solvers need nothing above them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

__all__ = ["Status", "Termination"]


class Status(str, Enum):
    """Outcome of a solve.

    ``optimal``: proven optimal for the policy.  ``feasible``: satisfies every
    rule, optimality not proven (see ``bound`` / ``gap``).  ``infeasible``:
    proven that no solution satisfies the hard rules (for example forced
    pairs).  ``unknown``: no solution found in the time given.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


class Termination(str, Enum):
    """Why a search stopped, beside its :class:`Status`.

    ``optimal``: it proved its answer optimal on the graph it searched (with
    ``top_k``, the capped graph: the status then says ``feasible``).
    ``infeasible``: it proved that the hard rules cannot all hold (with ``top_k``, on the capped
    graph: the status then says ``unknown``, unless a forced pair is not eligible at all).
    ``time_limit``: the time given ran out.  ``interrupted``: Ctrl-C (SIGINT).
    ``completed``: the method ran to its end without a proof either way: a
    heuristic's pass (``greedy``, ``fcfs``), deferred acceptance (``stable``),
    or ``auto`` when it ended before its time limit with parts whose bounds
    it could not close (parts that share an employer's caps are not proven
    apart); ``auto`` says ``time_limit`` when a part's share of the time ran
    out before its search ended.

    Examples
    --------
    >>> Termination.implied_by(Status.FEASIBLE)
    <Termination.COMPLETED: 'completed'>
    >>> Termination.of_parts([Termination.OPTIMAL, Termination.TIME_LIMIT])
    <Termination.TIME_LIMIT: 'time_limit'>
    """

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    COMPLETED = "completed"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def implied_by(cls, status: Status) -> Termination:
        """What a status says on its own: a proof (``optimal``, ``infeasible``), else ``completed``."""
        if status == Status.OPTIMAL:
            return cls.OPTIMAL
        if status == Status.INFEASIBLE:
            return cls.INFEASIBLE
        return cls.COMPLETED

    @classmethod
    def of_parts(cls, parts: Iterable[Termination], *, interrupted: bool = False,
                 out_of_time: bool = False) -> Termination:
        """Why a search over independent parts stopped: ``optimal`` when every part proved it,
        else ``interrupted`` (Ctrl-C), ``time_limit`` (a part's time, or the whole's, ran out),
        ``infeasible`` (a part proved it), or ``completed``."""
        ended = set(parts)
        if ended <= {cls.OPTIMAL}:
            return cls.OPTIMAL
        if interrupted or cls.INTERRUPTED in ended:
            return cls.INTERRUPTED
        if out_of_time or cls.TIME_LIMIT in ended:
            return cls.TIME_LIMIT
        if cls.INFEASIBLE in ended:
            return cls.INFEASIBLE
        return cls.COMPLETED
