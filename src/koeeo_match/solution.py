"""The result of a solve: a frozen :class:`Solution` and its file format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .status import Status

__all__ = ["Status", "Solution"]

SOLUTION_FORMAT = "koeeo-match-solution/1"


def _obj_array(values: Any) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


@dataclass(frozen=True, eq=False)
class Solution:
    """Assignments and what they achieve.

    Attributes
    ----------
    status : Status
    objective : float
        Policy value of the assignments (for a lexicographic policy, the
        value of its primary terms, e.g. total hours for ``max_hours``).
    bound : float or None
        Proven upper bound on ``objective`` where the method gives one.
    employee_ids, mission_ids : ndarray of str
        The assigned pairs, in a stable order (employee input order, then
        mission input order).
    metrics : dict
        Named figures (DESIGN.md §6), see :func:`koeeo_match.metrics.compute`.
    method, message : str
        Which method produced it; what it has to say (limits hit, warnings).
    employee, mission : ndarray of int32 or None
        The same pairs as dense indices into the problem (absent when the
        solution was loaded from a file).

    Examples
    --------
    >>> import koeeo_match as km
    >>> p = km.synth.city(employees=30, seed=2, rules="flow")
    >>> s = km.solve(p, method="flow")
    >>> s.status, s.gap
    (<Status.OPTIMAL: 'optimal'>, 0.0)
    >>> km.check(p, s)
    []
    """

    status: Status
    objective: float
    bound: float | None
    employee_ids: np.ndarray
    mission_ids: np.ndarray
    metrics: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    message: str = ""
    employee: np.ndarray | None = None
    mission: np.ndarray | None = None
    problem: Any = field(default=None, repr=False)  # the Problem it solves (not written to files)
    policy: Any = field(default=None, repr=False)  # the Policy it optimised

    def explain(self, id: str) -> Any:
        """Why employee or mission ``id`` got what it got (see :func:`koeeo_match.explain.explain`)."""
        from .explain import explain

        if self.problem is None:
            raise ValueError("This solution was loaded from a file: use km.explain(problem, solution, id).")
        return explain(self.problem, self, id, self.policy)

    @property
    def gap(self) -> float | None:
        """Relative gap ``(bound - objective) / max(|bound|, 1)``; 0 when optimal."""
        if self.status == Status.OPTIMAL:
            return 0.0
        if self.bound is None or not math.isfinite(self.bound):
            return None
        return max(self.bound - self.objective, 0.0) / max(abs(self.bound), 1.0)

    @property
    def assignments(self) -> list[tuple[str, str]]:
        """The assigned (employee id, mission id) pairs, in a stable order."""
        return list(zip(self.employee_ids.tolist(), self.mission_ids.tolist()))

    def __len__(self) -> int:
        return len(self.employee_ids)

    def __repr__(self) -> str:
        gap = self.gap
        g = "" if gap is None else f", gap={gap:.3%}"
        return f"Solution({self.status.value}, objective={self.objective:.6g}{g}, {len(self)} assignments, method={self.method!r})"

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """The ``koeeo-match-solution/1`` document.

        Wall-clock figures (``solve_seconds``) are left out unless
        ``timings=True`` so that the same input, policy and seed give a
        byte-identical file.
        """
        metrics = {k: _plain(v) for k, v in self.metrics.items() if timings or not k.endswith("_seconds")}
        return {
            "format": SOLUTION_FORMAT,
            "status": self.status.value,
            "objective": _plain(self.objective),
            "bound": _plain(self.bound),
            "method": self.method,
            "message": self.message,
            "assignments": [{"employee": e, "mission": m} for e, m in self.assignments],
            "metrics": metrics,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "Solution":
        """Read a ``koeeo-match-solution/1`` document (ids only; no indices)."""
        from .errors import InvalidProblemError, Issue

        issues = []
        if doc.get("format") != SOLUTION_FORMAT:
            issues.append(Issue("file", "", "format", f"expected {SOLUTION_FORMAT!r}"))
        try:
            status = Status(doc.get("status"))
        except ValueError:
            issues.append(Issue("file", "", "status", f"expected one of {[s.value for s in Status]}, got {doc.get('status')!r}"))
            status = Status.UNKNOWN
        rows = doc.get("assignments")
        es, ms = [], []
        if not isinstance(rows, list):
            issues.append(Issue("file", "", "assignments", "expected a list of {employee, mission}"))
            rows = []
        for i, r in enumerate(rows):
            if not isinstance(r, Mapping) or not isinstance(r.get("employee"), str) or not isinstance(r.get("mission"), str):
                issues.append(Issue("assignment", f"#{i}", "", f"expected {{'employee': id, 'mission': id}}, got {r!r}"))
                continue
            extra = set(r) - {"employee", "mission"}
            if extra:
                issues.append(Issue("assignment", f"#{i}", sorted(extra)[0], "unknown field"))
            es.append(r["employee"]), ms.append(r["mission"])
        for key in ("objective", "bound"):
            v = doc.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                issues.append(Issue("file", "", key, f"expected a number or null, got {v!r}"))
        if issues:
            raise InvalidProblemError(issues)
        obj = doc.get("objective")
        return cls(
            status=status,
            objective=float(obj) if obj is not None else math.nan,
            bound=None if doc.get("bound") is None else float(doc["bound"]),
            employee_ids=_obj_array(es),
            mission_ids=_obj_array(ms),
            metrics=dict(doc.get("metrics") or {}),
            method=str(doc.get("method", "")),
            message=str(doc.get("message", "")),
        )


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return round(v, 9)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v
