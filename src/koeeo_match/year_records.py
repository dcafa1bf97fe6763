"""The records of a simulated year (:func:`koeeo_match.simulate`): one :class:`Batch` per batch, and
the :class:`Year` that holds them with its solution, as a table, CSV or text."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .solution import Solution

__all__ = ["Batch", "Year", "COLUMNS", "CSV_COLUMNS"]


@dataclass(frozen=True)
class Batch(Mapping[str, Any]):
    """What one batch did: a record, read as a mapping of its fields too (``batch["date"]``,
    ``dict(batch)``, ``batch.get``, ``batch.items()``: :class:`~collections.abc.Mapping`'s own methods).

    Attributes
    ----------
    date : str
        The batch date (ISO); with ``method="fcfs"``, the last day of the days it groups.
    assignments : tuple of (str, str)
        The ``(employee id, mission id)`` pairs made in this batch, pinned from then on.
    hours : float
        Their hours.
    seconds : float
        Wall-clock seconds of the batch (reduction and solve).
    employees_waiting : int
        Employees known by ``date`` with no participation yet, after the batch.
    missions_open : int
        Missions posted, still ahead and with seats left, before the batch allocated.
    cumulative_hours : float
        Hours of every participation standing after the batch (cancellations deducted).
    cancelled : tuple of (str, str)
        Participations cancelled (or called off with their team) since the previous batch.
    status : str
        The status of the batch's solve(s): ``optimal``, ``feasible``, ``infeasible`` or
        ``unknown`` (the worst of the days grouped); ``""`` when nothing was open.
    tentative : int
        With deferred commitment (``commit_days``), the pairs the batch's solve made but did not
        pin: proposed, re-optimised by the next batch; 0 otherwise.
    kind : str
        ``"batch"``; ``"fill"`` for a day between batches on which the online fill
        (``fill=True``) pinned participations; ``"forced"`` for a day between batches on which
        forced pairs became known (both their ends), listed that day; ``"cancelled"`` for the day
        of the last cancellation, when it comes after the last batch.
    released : tuple of (str, str)
        Those of ``cancelled`` called off with their team (a teammate cancelled and left it short):
        they may be offered the mission again, where a pair that cancelled itself never is.
    """

    date: str
    assignments: tuple[tuple[str, str], ...]
    hours: float
    seconds: float
    employees_waiting: int
    missions_open: int
    cumulative_hours: float
    cancelled: tuple[tuple[str, str], ...] = ()
    status: str = ""
    tentative: int = 0
    kind: str = "batch"
    released: tuple[tuple[str, str], ...] = ()  # last: positional records of before still read

    def __getitem__(self, name: str) -> Any:
        """A field by name, as in a mapping: ``batch["date"]`` is ``batch.date``.

        >>> Batch("2027-01-04", (("e1", "m1"),), 7.0, 0.1, 0, 1, 7.0)["assignments"]
        (('e1', 'm1'),)
        """
        if name not in _FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(_FIELDS)

    def __len__(self) -> int:
        return len(_FIELDS)


_FIELDS = tuple(f.name for f in fields(Batch))
#: Columns of :meth:`Year.table`: the records' fields (``assignments``, ``cancelled`` and ``released``
#: hold their pairs, as the records do), with their counts ``n_assignments``, ``n_cancelled`` and ``n_released``.
COLUMNS = ("date", "assignments", "n_assignments", "hours", "cumulative_hours", "employees_waiting",
           "missions_open", "cancelled", "n_cancelled", "tentative", "kind", "status", "seconds", "released",
           "n_released")
#: Columns of :meth:`Year.to_csv`: those of :meth:`Year.table` but the pairs (counted in ``n_*``).
CSV_COLUMNS = tuple(c for c in COLUMNS if c not in ("assignments", "cancelled", "released"))
#: Columns of :meth:`Year.format_table`: (header, Batch attribute, format).
_TEXT_COLUMNS = (("date", "date", "{}"), ("new", "n_assignments", "{:d}"), ("hours", "hours", "{:g}"),
                 ("total h", "cumulative_hours", "{:g}"), ("open", "missions_open", "{:d}"),
                 ("waiting", "employees_waiting", "{:d}"), ("cancelled", "n_cancelled", "{:d}"),
                 ("seconds", "seconds", "{:.2f}"))
#: The column :meth:`Year.format_table` adds for a year with deferred commitment (before ``seconds``).
_TENTATIVE_COLUMN = ("tentative", "tentative", "{:d}")
#: The column :meth:`Year.format_table` adds for a year with the online fill (after ``date``).
_KIND_COLUMN = ("kind", "kind", "{}")


def _cells(b: Batch, columns: tuple[str, ...]) -> list[Any]:
    """A batch's values in ``columns``: ``n_x`` counts the pairs of ``x``."""
    return [len(getattr(b, c[2:])) if c.startswith("n_") else getattr(b, c) for c in columns]


@dataclass(frozen=True, eq=False)
class Year:
    """A simulated year: its solution over the whole problem and its batches.

    Attributes
    ----------
    solution : Solution
        Every participation standing at the end (status ``feasible``: allocated
        batch by batch, not the hindsight optimum); ``km.check(problem,
        year.solution) == []``.  Status ``unknown``, with no assignments, when
        the year could not place a forced pair (named in its message).
    batches : list of Batch
        One record per batch, in date order.
    batch, method : str
        How the year was allocated.
    commit_days : int or None
        The deferred-commitment horizon the year was allocated with (``None``: every pair pinned
        by the batch that made it).
    fill : bool
        Whether the online fill ran between batches (records of kind ``"fill"``).
    """

    solution: Solution
    batches: list[Batch] = field(default_factory=list)
    batch: str = "weekly"
    method: str = "auto"
    commit_days: int | None = None
    fill: bool = False

    def table(self) -> Any:
        """The batches as a pandas DataFrame, one row per batch (columns :data:`COLUMNS`:
        every field of :class:`Batch`, ``assignments``, ``cancelled`` and ``released`` holding the
        tuples of pairs as the records do, ``n_assignments``, ``n_cancelled`` and ``n_released``
        counting them; ``date`` is a datetime64).

        Raises
        ------
        ImportError
            pandas is not installed (``pip install 'koeeo-match[pandas]'``).
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Year.table needs pandas: pip install 'koeeo-match[pandas]'") from None
        frame = pd.DataFrame([_cells(b, COLUMNS) for b in self.batches], columns=list(COLUMNS))
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def to_csv(self, path: str) -> None:
        """Write the batches as CSV, one row per batch (columns :data:`CSV_COLUMNS`: those of
        :meth:`table` but the pairs, counted in ``n_assignments``, ``n_cancelled`` and
        ``n_released``); needs no pandas."""
        import csv

        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_COLUMNS)
            w.writerows(_cells(b, CSV_COLUMNS) for b in self.batches)

    def format_table(self) -> str:
        """The batches as an aligned text table (what ``koeeo-match simulate`` prints); a year with
        deferred commitment has a ``tentative`` column too, one with records other than batches (the
        online fill, forced pairs, late cancellations) a ``kind`` column."""
        cols: tuple[tuple[str, str, str], ...] = _TEXT_COLUMNS
        if self.commit_days is not None:
            cols = cols[:-1] + (_TENTATIVE_COLUMN, cols[-1])
        if self.fill or any(b.kind != "batch" for b in self.batches):
            cols = cols[:1] + (_KIND_COLUMN,) + cols[1:]
        rows = [[h for h, _, _ in cols]]
        for b in self.batches:
            values = _cells(b, tuple(a for _, a, _ in cols))
            rows.append([fmt.format(v) for (_, _, fmt), v in zip(cols, values)])
        widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)
