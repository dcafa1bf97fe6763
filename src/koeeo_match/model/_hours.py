"""Hours are compared exactly: in which units, and which values have none.

The solvers and the checker compare durations, entitlements and budgets as integers of one
unit per problem, the first of :data:`HOURS_FACTORS` (per hour) that makes every value whole.
The readers refuse a value that no unit makes whole (0.1234567 h), naming its record, and a
problem whose values have no common unit (a third of an hour beside a millionth).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import Issue

__all__ = ["HOURS_FACTORS", "hours_factor", "inexact_hour", "inexact_hours", "hours_unit_issue",
           "problem_hours_issue", "INEXACT_HOURS", "HOURS_UNITS"]

#: Units per hour tried, in order, to make hours exact integers.
HOURS_FACTORS = (1, 2, 4, 8, 10, 12, 20, 24, 40, 60, 100, 120, 1000, 3600, 10_000, 100_000, 1_000_000)
#: What makes hours exact, in words (the readers' and whatif's messages).
HOURS_UNITS = "whole millionths of an hour (or thirds, sixtieths, ...: hours are compared exactly)"
#: The readers' message for a value that no unit makes whole.
INEXACT_HOURS = f"expected hours in {HOURS_UNITS}"


def _whole(x: np.ndarray) -> np.ndarray:
    """Whole to within 4 units in the last place, and not a non-zero value read as 0 units."""
    r = np.round(x)
    return (np.abs(x - r) <= 4 * np.spacing(np.maximum(np.abs(x), 1.0))) & ((r != 0) | (x == 0))


def hours_factor(v: np.ndarray) -> int | None:
    """Smallest factor of :data:`HOURS_FACTORS` making every value of ``v`` (hours) an integer to
    within 4 units in the last place, or None: hours are then compared exactly in those units.

    Like :func:`~koeeo_match.policy.exact_factor` (scores, 64 units in the last place), the test is
    at float resolution: two durations the units call equal differ by less than the checker's 1e-9 h, so
    that 1000.33333334 h and 1000.3333333333 h are not both read as 3,001 thirds of an hour.

    >>> hours_factor(np.array([7.0, 3.5, 7 / 3])), hours_factor(np.array([6.9999999])), hours_factor(np.array([1 / 7]))
    (12, None, None)
    """
    v = np.asarray(v, np.float64)
    if v.size == 0:
        return 1
    for f in HOURS_FACTORS:
        if np.all(_whole(v * f)):
            return f
    return None


def inexact_hours(v: np.ndarray) -> np.ndarray:
    """Which values of ``v`` no factor of :data:`HOURS_FACTORS` makes whole (NaN and inf included).

    >>> inexact_hours(np.array([7.0, 7 / 3, 0.1234567, 1e-320])).tolist()
    [False, False, True, True]
    """
    v = np.asarray(v, np.float64)
    bad = np.ones(v.shape, bool)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf are never whole
        for f in HOURS_FACTORS:
            bad &= ~_whole(v * f)
    return bad


def inexact_hour(x: float) -> bool:
    """:func:`inexact_hours` of one value, without numpy (a record reader calls it per record).

    >>> [inexact_hour(x) for x in (7.0, 7 / 3, 0.1234567, 1e-320, float("nan"))]
    [False, False, True, True, True]
    """
    if not math.isfinite(x):
        return True
    for f in HOURS_FACTORS:
        y = x * f
        r = round(y)
        if abs(y - r) <= 4 * math.ulp(max(abs(y), 1.0)) and (r != 0 or y == 0):
            return False
    return True


def _factor_of(v: np.ndarray) -> np.ndarray:
    """Each value's smallest factor (0 where none)."""
    out = np.zeros(v.shape, np.int64)
    for f in HOURS_FACTORS[::-1]:
        out[_whole(v * f)] = f
    return out


def hours_unit_issue(named: list[tuple[str, np.ndarray, np.ndarray]]) -> Issue | None:
    """An issue when the hours given, each exact in some unit, have no common one; else None.

    ``named``: (record kind, ids, hours) for each field holding hours (NaN: not given).

    >>> ids = np.array(["a", "b"], object)
    >>> hours_unit_issue([("mission", ids, np.array([1 / 3, 0.000001]))]).message[:40]
    'no common exact unit for the hours: miss'
    >>> hours_unit_issue([("mission", ids, np.array([1 / 3, 0.5]))]) is None
    True
    """
    kinds, ids, values = [], [], []
    for kind, i, v in named:
        keep = np.isfinite(v)
        kinds += [kind] * int(keep.sum())
        ids.append(np.asarray(i, object)[keep])
        values.append(np.asarray(v, np.float64)[keep])
    v = np.concatenate(values) if values else np.zeros(0)
    if hours_factor(v) is not None or inexact_hours(v).any():
        return None  # a common unit, or values with none (named one by one by the readers)
    per = _factor_of(v)
    a = int(np.argmax(per))  # the finest unit one value needs, and one value it does not hold
    b = int(np.flatnonzero(~_whole(v * per[a]))[0])
    all_ids = np.concatenate(ids)
    return Issue("file", "", "hours",
                 f"no common exact unit for the hours: {kinds[a]} {all_ids[a]!r} ({v[a]:.10g} h) needs 1/{per[a]:,} h, "
                 f"which does not hold {kinds[b]} {all_ids[b]!r} ({v[b]:.10g} h); round them to millionths of an hour")


def problem_hours_issue(missions: Any, employees: Any, employers: Any) -> Issue | None:
    """:func:`hours_unit_issue` of a problem's tables: missions' and employees' ``hours`` and employers'
    ``hours_budget``."""
    return hours_unit_issue([("mission", missions.ids, missions.hours), ("employee", employees.ids, employees.hours),
                             ("employer", employers.ids, employers.hours_budget)])
