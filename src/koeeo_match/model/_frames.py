"""Records from pandas DataFrames (one frame per record kind, one row per record)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["records_from_frame"]


def _missing(v: Any) -> bool:
    """NaN, None, ``pd.NA`` and ``pd.NaT``: the field is not given."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ in ("NAType", "NaTType")


def records_from_frame(frame: Any) -> list[dict[str, Any]]:
    """Turn a pandas DataFrame into records, dropping missing (NaN/None) cells.

    Numpy scalars become Python numbers so that validation sees plain types.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns are the record fields of ``koeeo-match/1``; dict- and
        list-valued fields are cells holding dicts / lists.

    Returns
    -------
    list of dict
        One record per row, without its missing cells.

    Examples
    --------
    >>> import pandas as pd
    >>> records_from_frame(pd.DataFrame({"id": ["e1", "e2"], "max_km": [10.0, None]}))
    [{'id': 'e1', 'max_km': 10.0}, {'id': 'e2'}]
    """
    cols = list(frame.columns)
    out = []
    for row in frame.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            if _missing(v):
                continue
            if isinstance(v, np.generic):
                v = v.item()
            rec[c] = v
        out.append(rec)
    return out
