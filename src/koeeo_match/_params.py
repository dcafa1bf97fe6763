"""Checking a public function's parameters against a declarative table.

In the spirit of scikit-learn's ``validate_params``: each parameter lists the
constraints it may satisfy (``None`` among them means "or None"), and a value
that satisfies none of them raises :class:`InvalidParameterError` with one
uniform message::

    The 'x' parameter of f must be <the constraints, joined>. Got <value> instead.

:class:`Requires` rules relate two parameters (``rank`` only with ``top_k``).
:func:`param_error` gives the same ``The 'x' parameter of f ...`` opening to a
check a table cannot express (an unknown id, a repeated method).

This module imports nothing heavy (no numpy): the command line takes
:data:`METHODS` from it at start-up.

Examples
--------
>>> from numbers import Real
>>> table = {"time_limit": [Interval(Real, 0, None, closed="neither", noun="", unit="seconds"), None]}
>>> validate("solve", table, {"time_limit": 0})
Traceback (most recent call last):
...
koeeo_match.errors.InvalidParameterError: The 'time_limit' parameter of solve must be > 0 seconds or None.
Got 0 instead.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, TypeVar, cast

from .errors import InvalidParameterError

__all__ = ["METHODS", "InvalidParameterError", "Constraint", "Options", "Interval", "InstanceOf", "Satisfies",
           "Hidden", "Requires", "validate", "validate_params", "param_error"]

#: The methods of :func:`koeeo_match.solve`; ``solvers`` registers exactly these (tested).
METHODS: tuple[str, ...] = ("auto", "flow", "cpsat", "greedy", "fcfs", "stable")

F = TypeVar("F", bound=Callable[..., Any])


class Constraint:
    """One accepted form of a parameter: :meth:`holds` tests a value, ``str()`` describes it."""

    def holds(self, value: Any) -> bool:
        raise NotImplementedError

    def __str__(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Options(Constraint):
    """One of a few values (strings): ``'a' or 'b'``, or ``one of a, b, c``."""

    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        return any(isinstance(value, type(v)) and value == v for v in self.values)

    def __str__(self) -> str:
        if len(self.values) == 2:
            return " or ".join(repr(v) for v in self.values)
        return "one of " + ", ".join(str(v) for v in self.values)


def _num(x: float) -> str:
    """A bound as people read it: whole numbers in full (``2147483647``, not ``2.14748e+09``)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 2**63 else f"{x:g}"


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of ``kind`` (``numbers.Integral`` or ``numbers.Real``; never a bool) between bounds.

    ``closed`` says which bounds belong to the interval (``"left"``, ``"right"``, ``"both"``,
    ``"neither"``); ``finite`` refuses infinities (NaN, and a number beyond the float range such as
    ``10**400``, are always refused); ``whole`` asks a whole number of any real type (``2.0``
    counts).  ``noun`` opens the description (default: "an integer", or "a number", "a finite
    number" when ``finite``), ``unit`` closes it.
    """

    kind: type
    left: float | None = None
    right: float | None = None
    closed: str = "both"
    finite: bool = False
    whole: bool = False
    noun: str | None = None
    unit: str = ""

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        try:
            v = float(cast(float, value))
        except OverflowError:  # an integer (or fraction) beyond the float range, such as 10**400
            return False
        if math.isnan(v) or (self.finite and math.isinf(v)) or (self.whole and not v.is_integer()):
            return False
        lo_in = self.closed in ("left", "both")
        hi_in = self.closed in ("right", "both")
        if self.left is not None and not (v >= self.left if lo_in else v > self.left):
            return False
        return self.right is None or bool(v <= self.right if hi_in else v < self.right)

    def __str__(self) -> str:
        noun = self.noun
        if noun is None:
            noun = "an integer" if self.kind is Integral or self.whole else \
                ("a finite number" if self.finite else "a number")
        lo_in, hi_in = self.closed in ("left", "both"), self.closed in ("right", "both")
        if self.left is not None and self.right is not None:
            rng = f"in the range {'[' if lo_in else '('}{_num(self.left)}, {_num(self.right)}{']' if hi_in else ')'}"
        elif self.left is not None:
            rng = f"{'>=' if lo_in else '>'} {_num(self.left)}"
        elif self.right is not None:
            rng = f"{'<=' if hi_in else '<'} {_num(self.right)}"
        else:
            rng = ""
        return " ".join(x for x in (noun, rng, self.unit) if x)


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of ``types``, described as ``text`` (e.g. ``"a Problem"``)."""

    types: type | tuple[type, ...]
    text: str

    def holds(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Satisfies(Constraint):
    """A value for which ``test`` is true, described as ``text`` (e.g. ``callable``, "a callable")."""

    test: Callable[[Any], bool]
    text: str

    def holds(self, value: Any) -> bool:
        return bool(self.test(value))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Hidden(Constraint):
    """Accepted but left out of the message (``Hidden(None)``: None is a default, not a choice to offer)."""

    inner: Constraint | None

    def holds(self, value: Any) -> bool:
        return value is None if self.inner is None else self.inner.holds(value)

    def __str__(self) -> str:
        return ""


@dataclass(frozen=True)
class Requires:
    """A parameter given (not None) requires ``test(values[other])``; else ``"... {text}"``.

    ``show`` appends ``Got other=value.`` to the message.
    """

    other: str
    test: Callable[[Any], bool]
    text: str
    show: bool = False


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 60, 60, 6, 6


def _shown(value: Any) -> str:
    """A short one-line ``repr`` (a table: its type and columns, not its rows).

    >>> class Table:
    ...     columns = ["e"]
    >>> _shown(Table()), _shown([1, 2])
    ("a Table with columns ['e']", '[1, 2]')
    """
    if hasattr(value, "columns") and not isinstance(value, type):
        return f"a {type(value).__name__} with columns {_REPR.repr([str(c) for c in value.columns])}"
    return _REPR.repr(value)


def _too_large(value: Any) -> str:
    """`` (too large for a float)`` for a number beyond the float range (such as ``10**400``), else ``""``.

    >>> _too_large(10**400), _too_large(2**63), _too_large("x")
    (' (too large for a float)', '', '')
    """
    if isinstance(value, Real) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return " (too large for a float)"
    return ""


def _describe(constraints: Sequence[Constraint | None]) -> str:
    parts = [str(c) for c in constraints if c is not None and not isinstance(c, Hidden)]
    parts += ["None"] if None in constraints else []
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def param_error(fn: str, name: str, text: str) -> InvalidParameterError:
    """``The {name!r} parameter of {fn} {text}``, as an :class:`InvalidParameterError` to raise.

    >>> str(param_error("sweep", "methods", "is empty."))
    "The 'methods' parameter of sweep is empty."
    """
    return InvalidParameterError(f"The {name!r} parameter of {fn} {text}")


def validate(fn: str, table: Mapping[str, Sequence[Constraint | None]], values: Mapping[str, Any],
             rules: Mapping[str, Requires] | None = None) -> None:
    """Check ``values`` against ``table`` (then ``rules``); raise on the first that fails.

    Parameters
    ----------
    fn : str
        The function's name, as the message shows it.
    table : dict of str to list of Constraint or None
        The accepted forms of each parameter; ``None`` in a list accepts None.
    values : dict of str to object
        The values given; every name must be in ``table``.
    rules : dict of str to Requires, optional
        Checked once every value has its accepted form.

    Raises
    ------
    InvalidParameterError
        ``The 'x' parameter of fn must be ... Got ... instead.``

    Examples
    --------
    >>> validate("f", {"n": [Interval(Integral, 1, None, closed="left")]}, {"n": 3})
    >>> validate("f", {"by": [Options(("a", "b"))]}, {"by": "c"})
    Traceback (most recent call last):
    ...
    koeeo_match.errors.InvalidParameterError: The 'by' parameter of f must be 'a' or 'b'. Got 'c' instead.
    """
    for name, value in values.items():
        accepted = table[name]
        if value is None and None in accepted:
            continue
        if not any(c is not None and c.holds(value) for c in accepted):
            raise param_error(fn, name, f"must be {_describe(accepted)}. Got {_shown(value)}{_too_large(value)} "
                                        "instead.")
    for name, rule in (rules or {}).items():
        if values.get(name) is not None and not rule.test(values.get(rule.other)):
            got = f" Got {rule.other}={_shown(values.get(rule.other))}." if rule.show else ""
            raise param_error(fn, name, rule.text + got)


def validate_params(table: Mapping[str, Sequence[Constraint | None]],
                    rules: Mapping[str, Requires] | None = None) -> Callable[[F], F]:
    """Decorator: :func:`validate` the arguments named in ``table`` on every call.

    >>> @validate_params({"by": [Options(("association", "departement"))]})
    ... def lorenz(data, by="association"):
    ...     return by
    >>> lorenz([1], by="employer")
    Traceback (most recent call last):
    ...
    koeeo_match.errors.InvalidParameterError: The 'by' parameter of lorenz must be 'association' or 'departement'.
    Got 'employer' instead.
    """

    def deco(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            validate(fn.__name__, table, {k: bound.arguments[k] for k in table}, rules)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


def did_you_mean(word: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known word closest to a misspelt ``word``, or ``""``.

    >>> did_you_mean("travle_km", ["hours", "travel_km"]), did_you_mean("speed", ["hours"])
    (" (did you mean 'travel_km'?)", '')
    """
    near = difflib.get_close_matches(word, list(known), n=1) if isinstance(word, str) else []
    return f" (did you mean {near[0]!r}?)" if near else ""
