"""Why (not) me?  Explanations of a solution, by job.

- :func:`explain` (:mod:`koeeo_match.explain.why`) — for one employee or mission: what it got and
  what each assignment scores, or why it got nothing: no eligible candidate
  (and, for each nearby candidate, the rule that cuts it: skill, level, date,
  distance, remote, exclusion, forbidden), candidates all taken by
  higher-scoring assignments (which, and by how much), a capacity that binds
  (employer daily cap or budget, max per employer), or a team minimum not
  reached; :func:`why_not` names the rule that cuts one pair.
- :func:`shortfall` (:mod:`koeeo_match.explain.unmet`) — demand that no allocation can meet, from
  a maximum flow (Hall's condition: the deficiency is total seats minus the
  maximum flow), by skill and département.
- :func:`breakdown` and :func:`diff` (:mod:`koeeo_match.explain.objective`) — the objective by
  term and the constraints that bind; who moved between two solutions, and
  what it changed.
- :func:`assigned_pairs` (:mod:`koeeo_match.explain._pairs`) — a solution's assignments as index
  arrays into a problem, matched by id unless the solution was solved on that very problem (what
  every explanation, table and plot of a solution starts from).

This room reads a solution and never builds one: it sits below
:mod:`koeeo_match.solution`, whose ``Solution.explain`` delegates here.
"""

from ._pairs import assigned_pairs
from .objective import breakdown, diff
from .unmet import shortfall
from .why import Explanation, explain, why_not

__all__ = ["Explanation", "explain", "why_not", "shortfall", "breakdown", "diff", "assigned_pairs"]
