"""Small array helpers faster than their ``np.unique`` equivalents on large inputs.

(``np.unique`` without ``return_*`` arguments takes a hash-based path in recent
numpy that is 10-100x slower than a sort on tens of millions of integers.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["present", "unique_sorted"]


def present(idx: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of ``idx`` (non-negative integers below ``n``), ascending.

    >>> present(np.array([3, 1, 3]), 5).tolist()
    [1, 3]
    """
    return np.flatnonzero(np.bincount(idx, minlength=n))


def unique_sorted(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` by one sort.

    >>> unique_sorted(np.array([2.5, 1.0, 2.5])).tolist()
    [1.0, 2.5]
    """
    s = np.sort(np.asarray(a), kind="stable")
    if s.size == 0:
        return s
    keep = np.empty(s.size, bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]
