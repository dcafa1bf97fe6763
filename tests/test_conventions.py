"""Conventions (issue 17, deliverable 5): lazy imports, the logger, the warning class, -v/-q and help texts."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import koeeo_match as km
from koeeo_match import cli

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "ortools")


def _fresh(code: str) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its stdout."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, check=True)
    return out.stdout


def test_import_loads_no_heavy_module():
    out = _fresh(f"import sys, koeeo_match; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert out.strip() == "[]"


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"], ["pipeline", "-h"], ["--version"]])
def test_help_imports_no_numpy(argv):
    code = (f"import sys\nfrom koeeo_match.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('numpy' in sys.modules, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, check=True)
    assert out.stderr.strip().splitlines()[-1] == "False"


def test_lazy_names_all_resolve_and_dir_is_complete():
    assert set(km.__all__) == set(km._LAZY) and len(km.__all__) == len(set(km.__all__))
    assert set(km.__all__) <= set(dir(km))
    # the package's own imports are not offered as part of the library (tab completion reads dir)
    assert not {"sys", "logging", "importlib", "types", "Any", "TYPE_CHECKING", "annotations"} & set(dir(km))
    assert "__version__" in dir(km)
    for name in km.__all__:
        assert getattr(km, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        km.nope  # noqa: B018


def test_a_function_named_after_its_module_stays_the_function():
    # importing the submodule first (as other modules do) must not rebind km.check to the module
    out = _fresh("import koeeo_match.check, koeeo_match.sweep, koeeo_match.explain as x\nimport koeeo_match as km\n"
                 "print(callable(km.check), callable(km.sweep), callable(km.explain))")
    assert out.strip() == "True True True"


def test_the_package_logger_has_a_null_handler():
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("koeeo_match").handlers)


def test_warning_class():
    assert issubclass(km.KoeeoMatchWarning, UserWarning) and issubclass(km.KoeeoMatchWarning, RuntimeWarning)
    assert km.KoeeoMatchWarning is km.errors.KoeeoMatchWarning


@pytest.mark.parametrize("method", ["greedy", "flow"])
def test_the_collapsed_score_warning_is_the_library_class(monkeypatch, method):
    import koeeo_match.candidates._score as score

    real = score.integer_scores
    note = "7 distinct secondary scores became equal"
    monkeypatch.setattr(score, "integer_scores", lambda *a, **k: dataclasses.replace(real(*a, **k), collapsed=note))
    problem = km.synth.city(employees=40, seed=0)
    with pytest.warns(km.KoeeoMatchWarning, match=note) as caught:
        sol = km.solve(problem, method=method, policy="max_hours", seed=0)
    assert caught[0].filename == __file__  # stacklevel points at the caller
    assert note in sol.message
    with warnings.catch_warnings():  # an existing RuntimeWarning filter still silences it
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", RuntimeWarning)
        km.solve(problem, method=method, policy="max_hours", seed=0)


def test_sweep_lines_are_logged_at_info(caplog):
    problem = km.synth.city(employees=40, seed=0)
    with caplog.at_level(logging.INFO, logger="koeeo_match"):
        km.sweep(problem, ["max_hours"], ["greedy", "fcfs"])
    lines = [r.getMessage() for r in caplog.records if r.name == "koeeo_match.sweep"]
    assert len(lines) == 2 and lines[0].startswith("[sweep 1/2] variant=base policy=max_hours method=greedy")
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "koeeo_match.sweep")


def test_cli_presets_match_the_policy_presets():
    assert tuple(km.Policy.PRESETS) == cli.POLICY_PRESETS


@pytest.mark.parametrize("command", ["solve", "check", "generate", "report", "explain", "pipeline", "demo"])
def test_every_subcommand_help_has_defaults_and_an_example(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = capsys.readouterr().out
    assert "example:\n  koeeo-match " + command in text
    assert "-v, --verbose" in text and "-q, --quiet" in text
    if command not in ("check", "report"):
        assert "(default: " in text
    if command in ("solve", "explain", "pipeline"):
        assert "max_coverage" in text and "hours_then_equity" in text


@pytest.fixture()
def files(tmp_path):
    problem, sol = tmp_path / "p.json", tmp_path / "s.json"
    assert cli.main(["generate", "--region", "Bretagne", "--employees", "60", "-o", str(problem), "-q"]) == 0
    return problem, sol


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_hides_progress_lines_but_not_results(files, capsys, where):
    problem, sol = files
    capsys.readouterr()
    args = ["solve", str(problem), "-o", "-", "--method", "greedy"]
    assert cli.main(["-q", *args] if where == "before" else [*args, "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and '"koeeo-match-solution/1"' in out
    assert cli.main(["check", str(problem), "-"]) == 2  # an error still prints, whatever -q said before
    assert capsys.readouterr().err.startswith("koeeo-match: error:")


def test_without_quiet_the_progress_lines_show(files, capsys):
    problem, sol = files
    capsys.readouterr()
    assert cli.main(["solve", str(problem), "-o", str(sol), "--method", "greedy"]) == 0
    err = capsys.readouterr().err
    assert "loaded " in err and f"-> {sol}" in err


@pytest.mark.parametrize("argv, shown", [([], []), (["-v"], ["INFO"]), (["-vv"], ["INFO", "DEBUG"]),
                                         (["check", "-v"], ["INFO"])])
def test_verbose_shows_the_library_log(files, capsys, monkeypatch, argv, shown):
    problem, sol = files
    assert cli.main(["solve", str(problem), "-o", str(sol), "--method", "greedy", "-q"]) == 0

    real = cli.cmd_check

    def logged(args):
        logging.getLogger("koeeo_match.test").info("an info line")
        logging.getLogger("koeeo_match.test").debug("a debug line")
        return real(args)

    monkeypatch.setattr(cli, "cmd_check", logged)
    capsys.readouterr()
    if argv and argv[0] == "check":
        rest = ["check", str(problem), str(sol), *argv[1:]]
    else:
        rest = [*argv, "check", str(problem), str(sol)]
    assert cli.main(rest) == 0
    err = capsys.readouterr().err
    assert ("INFO koeeo_match.test: an info line" in err) == ("INFO" in shown)
    assert ("DEBUG koeeo_match.test: a debug line" in err) == ("DEBUG" in shown)
    assert not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler)
                   for h in logging.getLogger("koeeo_match").handlers)  # main removed its handler


def test_quiet_and_verbose_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["-q", "check", "p.json", "s.json", "-v"])
    assert exc.value.code == 2 and "exclude each other" in capsys.readouterr().err


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_quiet_also_hides_generate_progress(tmp_path, capsys, quiet):
    out = str(tmp_path / "p.json")
    assert cli.main([*quiet, "generate", "--region", "Bretagne", "--employees", "30", "-o", out]) == 0
    err = capsys.readouterr().err
    assert (err == "") == bool(quiet) and (quiet or "generated " in err)


def test_pipeline_lines_are_logged_and_given_to_progress(caplog):
    seen: list[str] = []
    with caplog.at_level(logging.INFO, logger="koeeo_match"):
        km.pipeline.run(lambda: km.synth.city(employees=40, seed=0, rules="flow"), method="flow", progress=seen.append)
    logged = [r.getMessage() for r in caplog.records if r.name == "koeeo_match.pipeline"]
    assert logged[0] == "[generate] ..." and logged == seen


def test_the_license_is_an_spdx_expression_with_its_file():
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"  # PEP 639: an SPDX expression, not a table
    assert project["license-files"] == ["LICENSE"] and (root / "LICENSE").read_text().startswith("MIT License")
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))
