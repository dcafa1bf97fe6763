"""The year of a synthetic instance: when each employee joined and each mission was posted, in 2027.

:func:`draw_year` gives every employee a ``joined`` day and every mission a
``posted`` day (DESIGN.md §8), from a random stream of its own, so that an
instance drawn with ``year=False`` is unchanged by this module.

**Sourced.** The French school holidays of 2027 by zone, from the school
calendar of the Ministère de l'Éducation nationale (education.gouv.fr,
"calendrier scolaire"; 2026-2027 year, arrêté of 22 October 2025): Christmas
2026 until 3 January 2027; winter: zone C 6–21 February, zone A 13 February–
28 February, zone B 20 February–7 March; spring: zone C 3–18 April, zone A
10–25 April, zone B 17 April–2 May; summer from 3 July.  The zones
follow the académies (A: Auvergne-Rhône-Alpes, Bourgogne-Franche-Comté,
Nouvelle-Aquitaine; B: Bretagne, Centre-Val de Loire, Grand Est,
Hauts-de-France, Normandie, Pays de la Loire, Provence-Alpes-Côte d'Azur;
C: Île-de-France, Occitanie).  Days are the days off, Saturday to the
Sunday before classes resume.

**Assumptions** (not sourced; change the constants below to change them):

- The 2027-2028 calendar was not available here: the rentrée on Wednesday
  1 September 2027, Toussaint 16–31 October 2027 and Christmas from
  18 December 2027 follow the usual pattern (classes resume the first
  weekday of September; two weeks around 1 November; from the Saturday
  before Christmas).
- Corse and the overseas départements, whose calendars differ, get only the
  periods common to every zone (summer, Toussaint, Christmas).
- :data:`MEMBERS_AT_START` of the employees are already members on
  1 January (``joined`` missing: known from the start); the others join on
  a day of 2027 drawn with weight 1, times :data:`RENTREE_PEAK` in the
  :data:`RENTREE_WEEKS` weeks from the rentrée (companies' engagement
  campaigns at the return to work), times :data:`HOLIDAY_LULL` on the school
  holidays of the employee's zone (``rentrée`` and holidays do not overlap).
- A dated mission is posted a lead time before its date, log-normal with
  median :data:`LEAD_MEDIAN_DAYS` and log-sd :data:`LEAD_LOG_SD` (about
  80 % of lead times between 7 and 67 days, mean 31), rounded and clipped to
  [:data:`LEAD_MIN_DAYS`, :data:`LEAD_MAX_DAYS`]: it is always posted before
  its date, possibly in December 2026.  An undated mission (no deadline) is
  posted on a day of 2027 drawn uniformly.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ..model import NO_DATE
from ..territory import departements

__all__ = [
    "HOLIDAYS",
    "HOLIDAY_LULL",
    "LEAD_LOG_SD",
    "LEAD_MAX_DAYS",
    "LEAD_MEDIAN_DAYS",
    "LEAD_MIN_DAYS",
    "MEMBERS_AT_START",
    "RENTREE",
    "RENTREE_PEAK",
    "RENTREE_WEEKS",
    "YEAR_STREAM",
    "ZONES",
    "draw_year",
    "join_weights",
]

#: The year's draws come from ``SeedSequence(seed, spawn_key=(YEAR_STREAM,))``: a stream apart from
#: the instance's own (``default_rng(seed)``), which ``year=True`` therefore leaves untouched.
YEAR_STREAM = 2027
_YEAR = 2027
_DAYS = 365

#: School zone of each region (Corse and overseas: "").
ZONES: dict[str, str] = {
    "Auvergne-Rhône-Alpes": "A", "Bourgogne-Franche-Comté": "A", "Nouvelle-Aquitaine": "A",
    "Bretagne": "B", "Centre-Val de Loire": "B", "Grand Est": "B", "Hauts-de-France": "B", "Normandie": "B",
    "Pays de la Loire": "B", "Provence-Alpes-Côte d'Azur": "B",
    "Île-de-France": "C", "Occitanie": "C",
}

#: School holidays touching 2027, inclusive (first, last) days off, by zone ("" = every zone).
HOLIDAYS: dict[str, tuple[tuple[str, str], ...]] = {
    "": (("2026-12-19", "2027-01-03"),  # Christmas 2026 (sourced)
         ("2027-07-03", "2027-08-31"),  # summer (sourced start; end: the assumed rentrée)
         ("2027-10-16", "2027-10-31"),  # Toussaint 2027 (assumed)
         ("2027-12-18", "2027-12-31")),  # Christmas 2027 (assumed)
    "A": (("2027-02-13", "2027-02-28"), ("2027-04-10", "2027-04-25")),
    "B": (("2027-02-20", "2027-03-07"), ("2027-04-17", "2027-05-02")),
    "C": (("2027-02-06", "2027-02-21"), ("2027-04-03", "2027-04-18")),
}
#: First day of classes of the 2027-2028 year (assumed, see the module docstring).
RENTREE = "2027-09-01"
#: Weight of a joining day in the weeks from the rentrée, and weeks it lasts.
RENTREE_PEAK = 3.0
RENTREE_WEEKS = 4
#: Weight of a joining day in the school holidays of the employee's zone.
HOLIDAY_LULL = 0.4
#: Share of the employees already members on 1 January (``joined`` missing).
MEMBERS_AT_START = 0.25
#: Posting lead time of a dated mission, in days: log-normal median and log-sd, clipped.
LEAD_MEDIAN_DAYS = 21.0
LEAD_LOG_SD = 0.9
LEAD_MIN_DAYS, LEAD_MAX_DAYS = 1, 180

_JAN_1 = _dt.date(_YEAR, 1, 1)


def _day_of_year(iso: str) -> int:
    """Day of 2027 (0 = 1 January) of an ISO date; negative before 2027."""
    return (_dt.date.fromisoformat(iso) - _JAN_1).days


def join_weights() -> dict[str, np.ndarray]:
    """The weight of each day of 2027 as a joining day, by school zone ("" = Corse and overseas).

    Returns
    -------
    dict of str to ndarray
        For each zone, 365 non-negative weights (day 0 = 1 January 2027).

    Examples
    --------
    >>> w = join_weights()
    >>> sorted(w), float(w["A"][_day_of_year("2027-09-06")]), float(w["A"][_day_of_year("2027-08-02")])
    (['', 'A', 'B', 'C'], 3.0, 0.4)
    >>> float(w["A"][_day_of_year("2027-02-25")]), float(w["C"][_day_of_year("2027-02-25")])
    (0.4, 1.0)
    """
    start = _day_of_year(RENTREE)
    out = {}
    for zone in ("", "A", "B", "C"):
        w = np.ones(_DAYS)
        w[start:start + 7 * RENTREE_WEEKS] = RENTREE_PEAK
        for first, last in HOLIDAYS[""] + (HOLIDAYS[zone] if zone else ()):
            w[max(_day_of_year(first), 0):_day_of_year(last) + 1] = HOLIDAY_LULL
        out[zone] = w
    return out


def _joined(rng: np.random.Generator, e_dep: np.ndarray, year_start: int) -> np.ndarray:
    """``joined`` of each employee (département indices ``e_dep``): NO_DATE or a day of 2027."""
    zone_of_dep = np.array([ZONES.get(r, "") for r in departements().region.tolist()], object)
    zone = zone_of_dep[e_dep]
    at_start = rng.random(e_dep.size) < MEMBERS_AT_START
    u = rng.random(e_dep.size)
    day = np.zeros(e_dep.size, np.int64)
    for z, w in join_weights().items():  # four zones, not a loop over employees
        cdf = np.cumsum(w) / w.sum()
        mine = zone == z
        day[mine] = np.searchsorted(cdf, u[mine], side="right")
    return np.where(at_start, NO_DATE, year_start + np.minimum(day, _DAYS - 1)).astype(np.int32)


def _posted(rng: np.random.Generator, date: np.ndarray, year_start: int) -> np.ndarray:
    """``posted`` of each mission: a lead time before a date, a uniform day of 2027 without one."""
    lead = np.rint(LEAD_MEDIAN_DAYS * np.exp(rng.normal(0.0, LEAD_LOG_SD, date.size)))
    lead = lead.clip(LEAD_MIN_DAYS, LEAD_MAX_DAYS).astype(np.int64)
    undated_day = year_start + rng.integers(0, _DAYS, date.size)
    dated = date != NO_DATE
    return np.where(dated, date.astype(np.int64) - lead, undated_day).astype(np.int32)


def draw_year(seed: int | None, e_dep: np.ndarray, date: np.ndarray, year_start: int) -> tuple[np.ndarray, np.ndarray]:
    """``joined`` per employee and ``posted`` per mission across 2027 (see the module docstring).

    Parameters
    ----------
    seed : int or None
        The instance's seed; the draws come from its own stream (:data:`YEAR_STREAM`).
    e_dep : ndarray of int
        Each employee's département (index into :func:`~koeeo_match.territory.departements`).
    date : ndarray of int32
        Each mission's date (``NO_DATE`` when undated).
    year_start : int
        1 January 2027 in days since 1970-01-01.

    Returns
    -------
    joined, posted : ndarray of int32
        ``NO_DATE`` where known from the start; every ``posted`` is before its mission's date.

    Examples
    --------
    >>> import numpy as np
    >>> jan1 = 20819
    >>> joined, posted = draw_year(0, np.zeros(4, np.int64), np.array([jan1 + 40, NO_DATE], np.int32), jan1)
    >>> joined.dtype, bool(posted[0] < jan1 + 40), bool(jan1 <= posted[1] < jan1 + 365)
    (dtype('int32'), True, True)
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(YEAR_STREAM,)))
    return _joined(rng, np.asarray(e_dep), year_start), _posted(rng, np.asarray(date), year_start)
