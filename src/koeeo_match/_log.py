"""How the command line talks to its user: the ``koeeo_match`` logger on stderr, and help texts.

Library modules log on ``logging.getLogger(__name__)`` (children of
``koeeo_match``, which carries a :class:`logging.NullHandler`); nothing is
shown unless the application configures logging, or the CLI is given ``-v``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable

__all__ = ["HelpFormatter", "to_stderr"]


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


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (unless it has none or the text names it) and the epilog kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        unset = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in text or unset or not action.option_strings:
            return text
        return text + (" " if text else "") + "(default: %(default)s)"
