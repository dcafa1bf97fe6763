"""Reference data for the generator: départements (INSEE, shipped CSV), skills, sectors, formats."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = ["Departements", "departements", "SKILLS", "SKILL_SUPPLY", "SKILL_DEMAND", "SECTORS", "SECTOR_WEIGHTS"]


@dataclass(frozen=True, eq=False)
class Departements:
    """The 101 départements (see ``synth/data/SOURCE.md``)."""

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
    text = resources.files("koeeo_match.synth").joinpath("data/departements.csv").read_text(encoding="utf-8")
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


# About 40 skill categories derived from the ROME professional domains (France Travail's
# répertoire des métiers), grouped for skills-based volunteering.
SKILLS: tuple[str, ...] = (
    "communication", "marketing", "digital", "social_media", "web_development", "it_support",
    "data", "cybersecurity", "accounting", "finance", "management_control", "fundraising",
    "legal", "hr", "recruitment", "training", "strategy", "project_management", "management",
    "sales", "purchasing", "logistics", "quality", "real_estate", "architecture", "engineering",
    "environment", "health_safety", "graphic_design", "video", "photography", "writing",
    "translation", "events", "public_relations", "customer_relations", "administration",
    "coaching", "mediation", "public_speaking",
)
# Supply: what employees hold (roughly the weight of each domain in private-sector employment).
_SUPPLY = {
    "accounting": 3, "finance": 2.5, "it_support": 3, "web_development": 2, "sales": 3.5,
    "management": 3, "project_management": 2.5, "administration": 3, "logistics": 2.5,
    "purchasing": 1.5, "hr": 2, "engineering": 2.5, "customer_relations": 2.5, "marketing": 2,
    "communication": 1.5, "data": 1.5, "legal": 1.2, "quality": 1.5, "training": 1.2,
}
# Demand: what associations ask for; the most wanted are over-represented.
_DEMAND = {
    "communication": 6, "fundraising": 5, "strategy": 4.5, "digital": 4.5, "social_media": 3,
    "accounting": 2.5, "legal": 2, "hr": 1.5, "web_development": 2, "graphic_design": 2,
    "project_management": 1.5, "events": 1.5, "finance": 1.5, "data": 1.2,
}


def _weights(table: dict[str, float]) -> np.ndarray:
    w = np.array([table.get(s, 1.0) for s in SKILLS])
    return w / w.sum()


SKILL_SUPPLY = _weights(_SUPPLY)
SKILL_DEMAND = _weights(_DEMAND)

# Association sectors and their approximate shares among active associations in France
# (sport, culture and leisure dominate; order of magnitude from the associative landscape
# surveys, used only to shape synthetic data).
SECTORS: tuple[str, ...] = (
    "sport", "culture", "leisure", "social", "education", "environment", "health",
    "humanitarian", "local_development", "rights",
)
SECTOR_WEIGHTS = np.array([24, 21, 20, 10, 5, 4, 4, 4, 5, 3], dtype=np.float64)
SECTOR_WEIGHTS /= SECTOR_WEIGHTS.sum()
