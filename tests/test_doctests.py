"""The examples in the package's docstrings run as documented."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import koeeo_match

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(koeeo_match.__path__, "koeeo_match.")
    if m.name.rsplit(".", 1)[-1] not in ("__main__", "cli")
)
KNOWN: dict[str, str] = {}  # doctest name -> reason, for documented behaviour that does not hold


def _doctests():
    finder = doctest.DocTestFinder()
    out = []
    for name in MODULES:
        module = importlib.import_module(name)
        for t in finder.find(module):
            if t.examples and t.name.startswith(name):
                mark = [pytest.mark.xfail(reason=KNOWN[t.name], strict=True)] if t.name in KNOWN else []
                out.append(pytest.param(t, id=t.name, marks=mark))
    return out


@pytest.mark.parametrize("test", _doctests())
def test_docstring_examples(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=lambda s: None)
    assert result.failed == 0, f"{result.failed} failing example(s) in {test.name}"
