"""France's départements: the reference table shipped with the package, and lookups.

Used by the candidate graph (rural associations, département blocks), the
metrics, the explanations, the plots and the generator.  It is reference data,
not generated: ``data/departements.csv`` (INSEE populations légales 2021, IGN
centres; see ``data/SOURCE.md``).

>>> from koeeo_match.territory import departements, departement_of
>>> d = departements()
>>> len(d), d.code[int(departement_of(np.array([48.11]), np.array([-1.68]))[0])]
(101, '35')
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from numbers import Real
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from ._geo import chord_of_km, unit_vectors
from ._params import Interval, param_error, validate

__all__ = ["Departements", "departements", "departement_of"]


@dataclass(frozen=True, eq=False)
class Departements:
    """The 101 départements (see ``data/SOURCE.md``)."""

    code: np.ndarray
    name: np.ndarray
    region: np.ndarray
    population: np.ndarray  # int64
    area_km2: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    density_class: np.ndarray  # "urban" | "intermediate" | "rural"

    def __len__(self) -> int:
        return len(self.code)

    def regions(self) -> list[str]:
        return sorted(set(self.region.tolist()))


@lru_cache(maxsize=1)
def departements() -> Departements:
    """Load the shipped départements table (INSEE populations légales 2021, IGN centres)."""
    text = resources.files("koeeo_match").joinpath("data/departements.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    col = lambda k, t=object: np.array([r[k] for r in rows], dtype=t)  # noqa: E731
    return Departements(
        code=col("code"),
        name=col("name"),
        region=col("region"),
        population=col("population", np.int64),
        area_km2=np.array([float(r["area_km2"]) for r in rows]),
        lat=col("lat", np.float64),
        lon=col("lon", np.float64),
        density_class=col("density_class"),
    )



def _degrees(name: str, value: Any, bound: float) -> np.ndarray:
    """``value`` as a 1-D float array of finite numbers in ``[-bound, bound]``; else an
    :class:`~koeeo_match.InvalidParameterError` naming ``name`` and the first bad value."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 1 or isinstance(value, (str, bytes)):
        raise param_error("departement_of", name, f"must be a 1-D array of numbers (degrees). Got {value!r:.60} "
                                                  "instead.")
    bad = ~(np.abs(arr) <= bound)  # NaN too
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise param_error("departement_of", name, f"must hold numbers in the range [-{bound:g}, {bound:g}] degrees; "
                                                  f"item #{k} is {float(arr[k])!r} ({int(bad.sum())} such).")
    return arr


def departement_of(lat: np.ndarray, lon: np.ndarray, max_km: float = 120.0) -> np.ndarray | None:
    """Index of the nearest département centre (``-1`` beyond ``max_km``); None if none is near.

    An approximation (Voronoi cells of the centres), good enough for territorial metrics.
    ``lat`` and ``lon`` are 1-D arrays of degrees of the same length; a parameter of a wrong
    type, shape or value raises :class:`~koeeo_match.InvalidParameterError` naming it.
    """
    validate("departement_of", {"max_km": [Interval(Real, 0, None, finite=True, unit="km")]}, {"max_km": max_km})
    lat, lon = _degrees("lat", lat, 90.0), _degrees("lon", lon, 180.0)
    if lat.size != lon.size:
        raise param_error("departement_of", "lon", f"must have as many items as lat ({lat.size:,}). Got "
                                                   f"{lon.size:,} instead.")
    d = departements()
    if len(lat) == 0:
        return None
    tree = cKDTree(unit_vectors(d.lat, d.lon))
    dist, idx = tree.query(unit_vectors(lat, lon), workers=-1)
    idx = np.where(dist <= chord_of_km(max_km), idx, -1)
    return None if (idx < 0).all() else idx.astype(np.int64)
