"""Argument types and JSON values of the command line (imported by :mod:`koeeo_match.cli`, no numpy)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

__all__ = ["add_year_options", "finite", "float_opt", "int_opt"]


def int_opt(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]``; the message names the bounds (argparse adds the option)."""
    want = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {want}, got {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {want}, got {text}")
        return v

    return parse


def float_opt(lo: float, hi: float = math.inf, *, lo_open: bool = False,
               inf_ok: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a number in ``(lo, hi]`` or ``[lo, hi]``; NaN refused, infinity only if ``inf_ok``."""
    want = f"a number {'>' if lo_open else '>='} {lo:g}" + ("" if hi == math.inf else f" and <= {hi:g}")

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {want}, got {text!r}") from None
        if math.isnan(v) or (math.isinf(v) and not inf_ok) or v < lo or (lo_open and v == lo) or v > hi:
            raise argparse.ArgumentTypeError(f"must be {want}{' (inf allowed)' if inf_ok else ''}, got {text}")
        return v

    return parse


def finite(v: Any) -> Any:
    """``v`` with non-finite floats as None and numpy scalars as Python ones (JSON has neither)."""
    if hasattr(v, "tolist"):  # a numpy scalar or array
        v = v.tolist()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite(x) for x in v]
    return v


def add_year_options(parser: argparse.ArgumentParser) -> None:
    """``simulate --commit-days D [--undated-now] --fill``: deferred commitment and the online fill
    (``km.simulate(..., commit_days=D, hold_undated=False, fill=True)``)."""
    parser.add_argument("--commit-days", type=int_opt(0), default=None, metavar="D",
                        help="deferred commitment: each batch re-optimises everything known and pins only the "
                             "participations dated before the next batch or within D days (default: pin at once)")
    parser.add_argument("--undated-now", action="store_true",
                        help="with --commit-days: pin participations in undated missions at once rather than "
                             "holding them to the year's end")
    parser.add_argument("--fill", action="store_true",
                        help="between batches, serve first come first served the missions that would expire "
                             "before the next batch")
