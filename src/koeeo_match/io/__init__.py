"""Files: problems and solutions, read and written by extension.

``.json`` holds a ``koeeo-match/1`` problem or a ``koeeo-match-solution/1``
solution; ``.npz`` a compact columnar problem (``koeeo-match/1+npz``).
Loading validates everything and raises one
:class:`~koeeo_match.errors.InvalidProblemError` listing every problem found,
each with its record kind, id and field; nothing is dropped or clamped.
Loading never executes code from a file: JSON is parsed with :mod:`json`,
and ``.npz`` with ``allow_pickle=False``.

Validation and the tables are :mod:`koeeo_match.model`'s; this package only
reads and writes.  ``problem_from_dict``, ``parse_day``, ``format_day`` and
``records_from_frame`` are re-exported from there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..model import (
    PROBLEM_FORMAT,
    Problem,
    format_day,
    parse_day,
    problem_from_dict,
    records_from_frame,
)
from ..solution import SOLUTION_FORMAT, Solution
from ._json import problem_to_dict, read_json, write_json
from ._npz import NPZ_FORMAT, dump_npz, load_npz

__all__ = [
    "NPZ_FORMAT",
    "PROBLEM_FORMAT",
    "SOLUTION_FORMAT",
    "dump",
    "format_day",
    "load",
    "parse_day",
    "problem_from_dict",
    "problem_to_dict",
    "records_from_frame",
]


def _is_npz(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(".npz")


def load(path: str | os.PathLike[str]) -> Any:
    """Load a problem (``koeeo-match/1``, ``.json`` or ``.npz``) or a solution file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz``: a compact problem; anything else: JSON, a solution when its
        ``format`` says so, else a problem.

    Returns
    -------
    Problem or Solution

    Raises
    ------
    InvalidProblemError
        Listing every problem in the file.

    Examples
    --------
    >>> import koeeo_match as km, tempfile, os
    >>> p = km.synth.city(employees=20, seed=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "p.json")
    >>> km.dump(p, path)
    >>> km.load(path).n_employees
    20
    """
    if _is_npz(path):
        return load_npz(path)
    doc = read_json(path)
    if isinstance(doc, Mapping) and doc.get("format") == SOLUTION_FORMAT:
        return Solution.from_dict(doc)
    return problem_from_dict(doc)


def dump(obj: Any, path: str | os.PathLike[str], *, timings: bool = False) -> None:
    """Write a :class:`Problem` (JSON, or compact ``.npz``) or a :class:`Solution` (JSON).

    The output is deterministic: the same object gives the same bytes.

    Parameters
    ----------
    obj : Problem or Solution
    path : str or os.PathLike
        A problem goes to ``.npz`` when the name ends so, else to JSON.
    timings : bool
        For a solution, also write wall-clock seconds (which differ from run
        to run).

    Examples
    --------
    >>> import koeeo_match as km, tempfile, os
    >>> p = km.synth.city(employees=20, seed=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
    >>> km.dump(p, path)
    >>> km.load(path).n_employees
    20
    """
    if isinstance(obj, Problem):
        if _is_npz(path):
            dump_npz(obj, path)
            return
        doc = problem_to_dict(obj)
    else:
        doc = obj.to_dict(timings=timings)
    write_json(doc, path)
