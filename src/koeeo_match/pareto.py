"""Pareto fronts of a table of results (a :func:`koeeo_match.sweep` table, or any list of rows).

:func:`pareto_front` keeps the rows that no other row dominates on the columns given, comparing
values rounded to :data:`DIGITS` significant digits; :func:`numeric_column` reads one column as floats.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ._params import did_you_mean
from .errors import InvalidParameterError

__all__ = ["DIGITS", "numeric_column", "pareto_front"]

#: :func:`pareto_front` compares values rounded to this many significant digits: float noise (a CO2
#: total summed in another order differs in its last bit) makes no row better or worse.  Rounding
#: (not a tolerance) keeps dominance transitive, so the front of a non-empty table is never empty.
DIGITS = 12


def numeric_column(table: Any, name: str) -> np.ndarray:
    """Column ``name`` of a table (DataFrame or list of dicts) as float64, None read as NaN.

    Raises :class:`~koeeo_match.errors.InvalidParameterError` naming every row whose value is
    not a real number (or too large for a float), or that has no such column.

    >>> numeric_column([{"h": 1}, {"h": None}], "h").tolist()
    [1.0, nan]
    """
    if hasattr(table, "columns"):
        if name not in table.columns:
            raise InvalidParameterError(f"pareto_front: the table has no column {name!r}"
                                        f"{did_you_mean(name, [str(c) for c in table.columns])}.")
        labels, values = [str(i) for i in table.index], list(table[name].to_numpy())
    else:
        rows = _rows(table)
        labels = [str(i) for i in range(len(rows))]
        dicts = [r for r in rows if isinstance(r, Mapping)]
        if dicts and not any(name in r for r in dicts):
            raise InvalidParameterError(f"pareto_front: the table has no column {name!r}"
                                        f"{did_you_mean(name, [str(c) for c in dicts[0]])}.")
        values = [r.get(name, _MISSING) if isinstance(r, Mapping) else _NOT_A_ROW for r in rows]
    out = np.full(len(values), np.nan)
    problems = []
    for i, (label, v) in enumerate(zip(labels, values)):
        if v is _MISSING:
            problems.append(f"row {label} has no column {name!r}")
        elif v is _NOT_A_ROW:
            problems.append(f"row {label} is not a dict of columns")
        elif v is None or type(v).__name__ in ("NAType", "NaTType"):  # pandas' missing values too
            continue
        elif not isinstance(v, numbers.Real):
            problems.append(f"row {label}: {name} = {_short(v)} is not a number")
        else:
            try:
                out[i] = float(v)
            except OverflowError:
                problems.append(f"row {label}: {name} = {_short(v)} is too large for a float")
    if problems:
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise InvalidParameterError(f"pareto_front: column {name!r} is not numeric: "
                                    + "; ".join(problems[:10]) + more + ".")
    return out


_MISSING, _NOT_A_ROW = object(), object()


def _rows(table: Any) -> list:
    """The rows of a table given as an iterable of dicts (an error if it is not one)."""
    if isinstance(table, (str, bytes, Mapping)) or not isinstance(table, Iterable):
        raise InvalidParameterError("pareto_front: the table is a pandas DataFrame or a list of dicts (one per "
                                    f"row); got a {type(table).__name__}.")
    return list(table)


def _short(v: Any) -> str:
    """``repr(v)``, cut at 40 characters."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def pareto_front(table: Any, maximize: Sequence[str] = (), minimize: Sequence[str] = ()) -> Any:
    """The rows that no other row dominates on the given columns.

    Row *j* dominates row *i* when it is at least as good on every column
    (larger on ``maximize``, smaller on ``minimize``) and strictly better on
    one, comparing values rounded to :data:`DIGITS` significant digits (float
    noise, such as a total summed in another order, decides nothing; a value
    next to 0 keeps its own digits).  Rows equal on every column
    do not dominate each other (all are kept).  A row with a missing value (None / NaN) in a chosen column is
    never on the front and dominates nothing; nor is a row whose ``status`` (a :func:`sweep` column) is
    ``infeasible``, ``unknown``, ``unsupported`` or ``error``: a run that found no solution (its figures read 0 h and
    0 kg) is no allocation to trade off against.  Other statuses, and rows without one, are kept.

    Parameters
    ----------
    table : pandas.DataFrame or list of dict
        For example the result of :func:`sweep`.
    maximize, minimize : sequence of str
        Column names.

    Returns
    -------
    Same type as ``table``
        The non-dominated rows, in their original order (a DataFrame keeps
        its index).

    Examples
    --------
    >>> rows = [{"h": 10, "km": 5}, {"h": 8, "km": 2}, {"h": 7, "km": 3}, {"h": 10, "km": 6}]
    >>> pareto_front(rows, maximize=["h"], minimize=["km"])
    [{'h': 10, 'km': 5}, {'h': 8, 'km': 2}]
    """
    if any(isinstance(c, str) or not isinstance(c, Iterable) for c in (maximize, minimize)):
        raise InvalidParameterError("pareto_front: 'maximize' and 'minimize' are lists of column names, "
                                    f"e.g. maximize=['assigned_hours']. Got {maximize!r} and {minimize!r}.")
    maximize, minimize = list(maximize), list(minimize)
    if not maximize and not minimize:
        raise InvalidParameterError("pareto_front needs at least one column in 'maximize' or 'minimize'.")
    both = set(maximize) & set(minimize)
    if both:
        raise InvalidParameterError(f"pareto_front: column {sorted(both)[0]!r} is both maximised and minimised.")
    if not hasattr(table, "columns"):
        table = _rows(table)
    n = len(table)
    cols = [numeric_column(table, c) for c in maximize] + [-numeric_column(table, c) for c in minimize]
    X = np.stack(cols, axis=1) if n else np.zeros((0, len(cols)))
    status = _statuses(table, n)
    if status is not None:  # a run without a solution (infeasible, unknown, error) is no point of the front
        X[np.isin(status, _NO_SOLUTION)] = np.nan
    keep = _non_dominated(X)
    if hasattr(table, "iloc"):
        return table.iloc[np.flatnonzero(keep)]
    return [r for r, k in zip(table, keep) if k]


#: The statuses of a sweep's rows that hold no solution (:func:`pareto_front` leaves them out).
_NO_SOLUTION = ("infeasible", "unknown", "unsupported", "error")


def _statuses(table: Any, n: int) -> np.ndarray | None:
    """The ``status`` column as strings (a sweep's), None when the table has none."""
    if hasattr(table, "columns"):
        return np.array([str(x) for x in table["status"]], dtype=object) if "status" in table.columns else None
    if not any(isinstance(r, Mapping) and "status" in r for r in table):
        return None
    return np.array([str(r.get("status")) if isinstance(r, Mapping) else "" for r in table], dtype=object)


def _non_dominated(X: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Mask of rows of ``X`` (larger is better in every column) that no row dominates."""
    valid = ~np.isnan(X).any(axis=1)
    keep = valid.copy()
    V: np.ndarray = _rounded(X[valid])
    idx = np.flatnonzero(valid)
    for s in range(0, V.shape[0], chunk):  # bounded memory: chunk x n x k booleans
        a = V[s : s + chunk, None, :]
        ge = np.all(V[None, :, :] >= a, axis=2)
        gt = np.any(V[None, :, :] > a, axis=2)
        keep[idx[s : s + chunk]] = ~np.any(ge & gt, axis=1)
    return keep


def _rounded(X: np.ndarray) -> np.ndarray:
    """``X`` with each finite, non-zero value rounded to :data:`DIGITS` significant digits.

    >>> _rounded(np.array([11651.113312977277, 11651.113312977275, 0.0, np.inf])).tolist()
    [11651.113313, 11651.113313, 0.0, inf]
    """
    out: np.ndarray = np.array(X, dtype=np.float64)
    flat = out.reshape(-1)  # a view: out is a fresh contiguous array
    at = np.flatnonzero(np.isfinite(flat) & (flat != 0))
    step = 10.0 ** (np.floor(np.log10(np.abs(flat[at]))) - (DIGITS - 1))
    fine = step > 0  # a value so small that its step underflows to 0 (below about 1e-300) keeps its own value
    flat[at[fine]] = np.round(flat[at[fine]] / step[fine]) * step[fine]
    return out
