"""How a solve ended: :class:`Status` (shared by the solvers, the solution and the files)."""

from __future__ import annotations

from enum import Enum

__all__ = ["Status"]


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
