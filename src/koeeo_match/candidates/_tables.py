"""Pair keys and per-problem lookup tables shared by the candidate graph's modules.

A pair ``(a, b)`` with ``b < nb`` is the int64 key ``a * nb + b``: one sort of such keys orders
pairs by ``a`` then ``b``, and a sorted key array answers membership by ``searchsorted``.
Tables derived from a problem (availability keys, exclusions, per-skill thresholds, ...) are
built on first use and kept while the problem lives.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from .._arrays import find_sorted
from ..model import Problem

T = TypeVar("T")

_CACHE: weakref.WeakKeyDictionary[Problem, dict[str, object]] = weakref.WeakKeyDictionary()


def per_problem(problem: Problem, name: str, build: Callable[[Problem], T]) -> T:
    """The table ``name`` of ``problem``: ``build(problem)`` on first use, then kept (weakly keyed)."""
    tables = _CACHE.get(problem)
    if tables is None:
        tables = _CACHE[problem] = {}
    if name not in tables:
        tables[name] = build(problem)
    return tables[name]  # type: ignore[return-value]


def n_req(problem: Problem) -> np.ndarray:
    """Number of required skills of each mission."""
    return per_problem(problem, "n_req", lambda p: np.diff(p.missions.req_ptr))


def pair_keys(a: np.ndarray, b: np.ndarray, nb: int) -> np.ndarray:
    """int64 key of each pair ``(a, b)``, ``b`` below ``nb``: sorting keys sorts by ``a`` then ``b``."""
    return a.astype(np.int64) * nb + b.astype(np.int64)


def in_sorted(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Mask of the ``keys`` present in ``sorted_keys`` (ascending)."""
    return find_sorted(sorted_keys, keys) >= 0


def sorted_table(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, values)`` sorted by key (stable), values as float64."""
    order = np.argsort(keys, kind="stable")
    return keys[order], np.asarray(vals, np.float64)[order]


def lookup_sorted(keys: np.ndarray, sk: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """Value for each key from a table sorted by key; 0 where absent."""
    out = np.zeros(keys.size, np.float64)
    pos = find_sorted(sk, keys)
    hit = pos >= 0
    out[hit] = sv[pos[hit]]
    return out
