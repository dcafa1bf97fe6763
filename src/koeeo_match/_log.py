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
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import NoReturn

__all__ = ["HelpFormatter", "console", "to_stderr", "native_output_to_stderr", "exit_now", "escaped"]


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


@contextlib.contextmanager
def native_output_to_stderr() -> Iterator[None]:
    """Inside, what native code (a solver library's C++) writes on file descriptor 1 goes to
    standard error, while ``sys.stdout`` still writes to the real standard output: a result written
    on standard output (``-o -``) is never interleaved with a library's own messages.

    Nothing changes when ``sys.stdout`` is not file descriptor 1 (a test's capture, a closed stream).

    Examples
    --------
    >>> with native_output_to_stderr():
    ...     print("a result")
    a result
    """
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
        err = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = err = -1
    if fd != 1 or err < 0:
        yield
        return
    old = sys.stdout
    real = os.dup(1)
    try:
        mine = io.TextIOWrapper(io.BufferedWriter(io.FileIO(real, "w", closefd=True)),
                                encoding=getattr(old, "encoding", None) or "utf-8", errors="backslashreplace",
                                line_buffering=bool(getattr(old, "line_buffering", False)))
    except BaseException:
        os.close(real)
        raise
    os.dup2(err, 1)
    sys.stdout = mine
    try:
        yield
    finally:
        sys.stdout = old
        _flush_native()  # what C code wrote through its own buffer goes where fd 1 pointed: stderr
        try:
            mine.flush()
        except (OSError, ValueError):  # the reader gone (| head): what is left goes nowhere
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, real)
            os.close(null)
            raise
        finally:
            os.dup2(real, 1)
            with contextlib.suppress(OSError, ValueError):
                mine.close()


def _flush_native() -> None:
    """Flush the C library's output buffers (``fflush(NULL)``), where it can be reached."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


#: Threads a solver leaves running when it stops waiting for them (a HiGHS run past its limit, or on
#: Ctrl-C, where it could not run in a process of its own: ``parallel.run_stoppable``):
#: :func:`exit_now` does not let the interpreter's shutdown meet them.
SOLVER_THREADS = ("highs-", "cpsat-")


def exit_now(code: int) -> NoReturn:
    """End the command-line process with ``code``.

    When a solver thread is still running in native code (HiGHS abandoned at its limit or on
    Ctrl-C where it ran in a thread, :data:`SOLVER_THREADS`), the streams are flushed and the process ends at once
    (``os._exit``): the interpreter's shutdown would otherwise wait for a non-daemon thread, or
    end a daemon one inside its C++ code, which can abort the process (exit 134) after the
    output was written.  Otherwise ``sys.exit(code)``.
    """
    if not any(t.is_alive() and t.name.startswith(SOLVER_THREADS) for t in threading.enumerate()):
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (unless it has none or the text names it) and the epilog kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        unset = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in text or unset or not action.option_strings:
            return text
        return text + (" " if text else "") + "(default: %(default)s)"


def escaped(text: str) -> str:
    """``text`` with its non-printable characters escaped as ``repr`` does (``\\n``, ``\\x1b``, ``\\u2028``).

    A plain text is returned unchanged, so a record id cannot forge an extra
    line or a terminal escape in the output.

    Examples
    --------
    >>> escaped("e1"), escaped("e1\\n[seats] x")
    ('e1', 'e1\\\\n[seats] x')
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
