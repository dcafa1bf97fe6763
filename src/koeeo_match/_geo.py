"""Great-circle geometry on numpy arrays (haversine, unit vectors for KD-trees)."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km (haversine, Earth radius 6371.0088 km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape (n, 3): chord distance is monotone in arc distance."""
    phi, lmb = np.radians(lat), np.radians(lon)
    c = np.cos(phi)
    return np.column_stack([c * np.cos(lmb), c * np.sin(lmb), np.sin(phi)])


def chord_of_km(km: np.ndarray | float) -> np.ndarray:
    """Chord length on the unit sphere of a great-circle distance in km."""
    ang = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return 2 * np.sin(ang / 2)
