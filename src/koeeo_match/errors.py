"""Exceptions raised by koeeo_match, all in one place.

``KoeeoMatchError`` is the base class.  ``InvalidProblemError`` is raised for
bad input and carries *every* problem found, each as an :class:`Issue` naming
the record kind, its id and the field.  ``UnsupportedError`` is raised when a
solver cannot honour a rule present in the problem (it names the rule and the
method that can).  ``SolverError`` covers failures inside a solver.
``InsufficientMemoryError`` refuses, before anything is built, a solve that
would not fit in memory (it names the size and a route that fits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "HOURS_BUDGET_MAX",
    "HOURS_MAX",
    "WEIGHT_MAX",
    "InsufficientMemoryError",
    "InvalidParameterError",
    "InvalidProblemError",
    "Issue",
    "KoeeoMatchError",
    "KoeeoMatchWarning",
    "SolverError",
    "UnknownIdError",
    "UnsupportedError",
]


#: The supported ranges of the input (docs/model.md), shared by every reader (records, frames, npz):
#: wider values would overflow the solvers' exact integer arithmetic (hours are scaled by up to
#: 10^6, scores by up to 2^30), so the readers refuse them with the range in the message.
HOURS_MAX = 1e6  # an employee's entitlement and a mission's duration, in hours
HOURS_BUDGET_MAX = 1e9  # an employer's hours budget
WEIGHT_MAX = 1e6  # an association's priority, a preference weight, |an affinity score|


class Issue(NamedTuple):
    """One problem found in the input.

    Attributes
    ----------
    kind : str
        Record kind: ``"employee"``, ``"mission"``, ``"association"``,
        ``"employer"``, ``"forced"``, ``"forbidden"``, ``"affinity"``,
        ``"assignment"`` (a row of a solution's table) or ``"file"`` for the
        top level.
    id : str
        The record's id (or its position, ``"#3"``, when it has no usable id).
    field : str
        The offending field (``""`` for the record as a whole).
    message : str
        What is wrong, and what was expected.
    """

    kind: str
    id: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.kind} {self.id!r}" if self.id else self.kind
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


class KoeeoMatchError(Exception):
    """Base class of every error raised by koeeo_match."""


class InvalidProblemError(KoeeoMatchError, ValueError):
    """The input describes no valid problem; ``issues`` lists every reason.

    Examples
    --------
    >>> import koeeo_match as km
    >>> try:
    ...     km.Problem.from_records(employees=[{"id": "e1", "lat": 95, "lon": 2}], missions=[])
    ... except km.InvalidProblemError as err:
    ...     print(err.issues[0].field)
    lat
    """

    def __init__(self, issues: Sequence[Issue]):
        self.issues: list[Issue] = list(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        super().__init__("\n  ".join([head, *map(str, self.issues)]))


class InvalidParameterError(KoeeoMatchError, ValueError, TypeError):
    """A parameter of a public function has a wrong type or value; the message names it:
    ``The 'x' parameter of f must be ... Got ... instead.``

    Both a ``ValueError`` and a ``TypeError`` (as scikit-learn's), so that callers catching
    either keep working whatever the check found.
    """


class UnknownIdError(InvalidParameterError, KeyError):
    """An id asked for (``km.explain``'s ``id``) that the problem does not hold, or holds twice over.

    An :class:`InvalidParameterError` naming the parameter, and a ``KeyError`` (what a lookup by an
    unknown key raises), so that callers catching either keep working.  Its message reads as
    written (a ``KeyError`` would show it quoted).

    Examples
    --------
    >>> err = UnknownIdError("The 'id' parameter of explain must be ... Got 'x' instead.")
    >>> isinstance(err, KeyError), isinstance(err, ValueError), str(err)[:20]
    (True, True, "The 'id' parameter o")
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnsupportedError(KoeeoMatchError):
    """A solver was asked to solve a problem with a rule it cannot honour."""


class SolverError(KoeeoMatchError):
    """A solver failed (for example a numeric range it cannot represent)."""


class InsufficientMemoryError(KoeeoMatchError, MemoryError):
    """A solve refused up front: its candidate graph and solver would not fit in memory (or a
    JSON file whose reading would not: ``arcs`` is then 0 and ``route`` names npz and Parquet).

    A :class:`KoeeoMatchError` (the command line prints it as one message, exit 2) and a
    ``MemoryError``, so that code already guarding a large solve with ``except MemoryError``
    catches the refusal as it would the crash it prevents.  Not a :class:`SolverError`: no
    solver ran.  The message gives the estimated arcs and GiB, the GiB available and a
    route that fits; the same figures are attributes.

    Attributes
    ----------
    arcs : int
        Estimated arcs of the candidate graph asked for.
    needed, available : float
        The peak the refusal counted (at the arcs' lower bound) and the memory available, in GiB.
    route : str
        A route that fits (``"top_k=5"``, ``"method='auto'"``), or ``""`` if none was found.

    Examples
    --------
    >>> err = InsufficientMemoryError("too big", arcs=10**9, needed=330.0, available=16.0, route="top_k=5")
    >>> isinstance(err, MemoryError), isinstance(err, KoeeoMatchError), err.route
    (True, True, 'top_k=5')
    """

    def __init__(self, message: str, *, arcs: int, needed: float, available: float, route: str = ""):
        super().__init__(message)
        self.arcs, self.needed, self.available, self.route = arcs, needed, available, route


class KoeeoMatchWarning(UserWarning, RuntimeWarning):
    """A warning of koeeo_match (for example: distinct secondary scores that the exact integer scale made equal).

    It is also a :class:`RuntimeWarning`, the class these warnings had
    before, so existing filters keep working.  Silence them all with
    ``warnings.simplefilter("ignore", km.KoeeoMatchWarning)``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("scores collapsed", KoeeoMatchWarning)
    >>> issubclass(caught[0].category, RuntimeWarning)
    True
    """
