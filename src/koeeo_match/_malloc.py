"""Freed heap memory given back to the operating system, where the C library allows it.

NumPy allocates arrays below glibc's mmap threshold (up to 32 MiB, raised as large arrays are
freed) on the heap, and KD-tree queries allocate many small blocks there, in several arenas
(one per thread).  What they free stays resident in the process until ``malloc_trim``: a
national priced solve held 1.0-1.7 GiB of such free heap between its rounds (glibc's
``mallinfo2``; 2026-12-07), which every flow process it forks inherits in its resident size.
:func:`release_memory` asks glibc to return it; elsewhere (musl, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

__all__ = ["release_memory"]

_TRIM: list[Callable[[int], int] | None] = []  # glibc's malloc_trim, looked up at the first call


def _trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (the symbols of the running process:
    no library search, no subprocess)."""
    if not _TRIM:
        trim = None
        if sys.platform.startswith("linux"):
            try:
                trim = ctypes.CDLL(None).malloc_trim
                trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                trim = None
        _TRIM.append(trim)
    return _TRIM[0]


def release_memory() -> bool:
    """Return the heap memory freed so far to the operating system (glibc's ``malloc_trim(0)``):
    whether it could (False where the C library has no such call).  A few milliseconds to a
    few hundred on a heap of gigabytes; it changes no result.

    >>> isinstance(release_memory(), bool)
    True
    """
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
