"""Reference data for the generator: skills, sectors, formats (the départements are in :mod:`koeeo_match.territory`)."""

from __future__ import annotations

import numpy as np

__all__ = ["SECTORS", "SECTOR_WEIGHTS", "SKILLS", "SKILL_DEMAND", "SKILL_SUPPLY"]


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
