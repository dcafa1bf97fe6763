"""How the command line talks to its user: the ``koeeo_match`` logger on stderr, and help texts.

Library modules log on ``logging.getLogger(__name__)`` (children of
``koeeo_match``, which carries a :class:`logging.NullHandler`); nothing is
shown unless the application configures logging, or the CLI is given ``-v``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import logging
import sys
import warnings
from collections.abc import Callable, Iterator

__all__ = ["HelpFormatter", "console", "to_stderr"]


def to_stderr(verbose: int) -> Callable[[], None]:
    """Show the ``koeeo_match`` log on stderr: INFO if ``verbose`` is 1, DEBUG above; and the
    library's warnings as one line each, ``koeeo-match: warning: ...`` (not Python's file, line
    and source); returns the undo.

    Examples
    --------
    >>> undo = to_stderr(1)
    >>> logging.getLogger("koeeo_match").getEffectiveLevel() == logging.INFO
    True
    >>> undo()
    """
    shown = warnings.showwarning

    def one_line(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"koeeo-match: warning: {message}", file=sys.stderr)

    warnings.showwarning = one_line
    if not verbose:
        def put_back() -> None:
            warnings.showwarning = shown

        return put_back
    log = logging.getLogger("koeeo_match")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    old = log.level
    log.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
    log.addHandler(handler)

    def undo() -> None:
        log.removeHandler(handler)
        log.setLevel(old)
        warnings.showwarning = shown

    return undo


class _Closed(io.TextIOBase):
    """Standard output when the command was started without one (``>&-``): writing to it is an error."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed: nowhere to write the output")


class _Dropped(io.TextIOBase):
    """Standard error when the command was started without one (``2>&-``): what it is told goes nowhere
    (``print(file=None)`` would put it on standard output, into the output)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


@contextlib.contextmanager
def console() -> Iterator[None]:
    """Standard output and error that no character and no closed stream turns into a traceback.

    Each stream writes the characters its encoding lacks as escapes (``\\xe9`` for an ``é`` on an
    ASCII terminal), from now on: the command line is the process.  Inside the ``with``, a closed
    standard output (None) is a stream whose writing raises ``OSError`` (the command line prints it
    as one message), and a closed standard error one that drops what it is given.

    Examples
    --------
    >>> saved, sys.stdout = sys.stdout, None  # as a command started with ``>&-`` has it
    >>> try:
    ...     with console():
    ...         print("a result")
    ... finally:
    ...     sys.stdout = saved
    Traceback (most recent call last):
    OSError: [Errno 9] standard output is closed: nowhere to write the output
    """
    for stream in (sys.stdout, sys.stderr):
        if callable(getattr(stream, "reconfigure", None)):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    stand_ins = {"stdout": _Closed(), "stderr": _Dropped()}
    replaced = [name for name in stand_ins if getattr(sys, name) is None]
    for name in replaced:
        setattr(sys, name, stand_ins[name])
    try:
        yield
    finally:
        for name in replaced:
            if getattr(sys, name) is stand_ins[name]:
                setattr(sys, name, None)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (unless it has none or the text names it) and the epilog kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        unset = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in text or unset or not action.option_strings:
            return text
        return text + (" " if text else "") + "(default: %(default)s)"
