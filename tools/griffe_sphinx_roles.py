"""Griffe extension for the docs site: docstrings written for ``help()`` and Sphinx, shown by mkdocs.

* Sphinx roles (``:class:`Problem```, ``:func:`~koeeo_match.solve```), which mkdocstrings would
  print as they are, become *optional* autorefs: a link when the target is rendered in the API
  reference, plain code otherwise (never a build warning).
* A doctest outside an ``Examples`` section (``>>>`` lines and their output, up to a blank line),
  which Markdown would read as a block quote, becomes a ``pycon`` code block.
Loaded by ``mkdocs.yml`` (``extensions: [tools/griffe_sphinx_roles.py]``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj):`(~?)([\w.]+)`")


def _target(obj: griffe.Object, name: str) -> str:
    """Full path of ``name`` seen from ``obj``: resolved in its scope, else as written."""
    head, _, rest = name.partition(".")
    try:
        path = obj.resolve(head)
    except Exception:  # unresolvable: keep the name, the autoref is optional
        return name
    return f"{path}.{rest}" if rest else path


def _rewrite(obj: griffe.Object, text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        tilde, name = m.groups()
        title = name.rsplit(".", 1)[-1] if tilde else name
        return f'<autoref identifier="{_target(obj, name)}" optional><code>{title}</code></autoref>'

    return ROLE.sub(repl, text)


def _fence_doctests(text: str) -> str:
    out: list[str] = []
    in_examples = in_doctest = False
    indent = ""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and stripped:
            in_examples = stripped == "Examples"  # a numpydoc section header
        if not in_examples and not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_doctest = True
        elif in_doctest and not stripped:
            out.append(indent + "```")
            in_doctest = False
        out.append(line)
    if in_doctest:
        out.append(indent + "```")
    return "\n".join(out)


def _walk(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = _rewrite(obj, _fence_doctests(obj.docstring.value))
    for member in obj.members.values():
        if not member.is_alias:
            _walk(member)


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: D102
        _walk(pkg)
