"""The docs plumbing: CI runs the README's test command, the notebook runner, the docstring rewriting."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_the_readme_test_command_word_for_word():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_index_includes_readme_sections_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for name in re.findall(r'--8<-- "README\.md:(\w+)"', index):
        assert f"--8<-- [start:{name}]" in readme and f"--8<-- [end:{name}]" in readme, name


def test_doctests_outside_examples_are_fenced_and_roles_become_optional_autorefs():
    griffe = pytest.importorskip("griffe")
    ext = _tool("griffe_sphinx_roles")
    text = "Gini.\n\n>>> gini(x)\n0.0\n\nExamples\n--------\n>>> gini(y)\n1.0\n"
    assert ext._fence_doctests(text) == (
        "Gini.\n\n```pycon\n>>> gini(x)\n0.0\n```\n\nExamples\n--------\n>>> gini(y)\n1.0\n"
    )
    pkg = griffe.load("koeeo_match", search_paths=[str(ROOT / "src")])
    solve = pkg["engine.solve"]
    out = ext._rewrite(solve, "a :class:`Policy` or :func:`~koeeo_match.solve` or :class:`Nowhere`")
    assert out == (
        'a <autoref identifier="koeeo_match.policy.Policy" optional><code>Policy</code></autoref>'
        ' or <autoref identifier="koeeo_match.solve" optional><code>solve</code></autoref>'
        ' or <autoref identifier="Nowhere" optional><code>Nowhere</code></autoref>'
    )


def _notebook(path: Path, *sources: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_run_notebooks_writes_outputs_back_and_fails_on_error(tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import nbformat

    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    _notebook(good, "import os\nprint(os.path.basename(os.getcwd()), 6 * 7)")
    _notebook(bad, "print('before')", "1 / 0")
    script = str(ROOT / "tools" / "run_notebooks.py")

    done = subprocess.run([sys.executable, script, str(good)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "executed in" in done.stdout
    outputs = nbformat.read(good, as_version=4).cells[0].outputs
    assert outputs[0]["text"] == f"{tmp_path.name} 42\n"  # ran from the notebook's folder

    before = bad.read_bytes()
    failed = subprocess.run([sys.executable, script, "--timeout", "60", str(bad)],
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "ZeroDivisionError" in failed.stderr
    assert bad.read_bytes() == before  # a failed run leaves the file as it was
