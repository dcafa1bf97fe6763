"""Issue 17, files and streams through the command line: ``-`` as standard input or output, output formats
by extension, ``check --json`` / ``report --json``, solution files validated (format, keys, recorded
figures), ids escaped, options validated with the option named, deeply nested JSON.  Each test asserts
the exit code and the message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import koeeo_match as km
from koeeo_match.check import Violation
from koeeo_match.cli import main

VIOLATION_KEYS = {"rule", "employee", "mission", "message"}


def run(*args: str, stdin: str | None = None, cwd=None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "koeeo_match", *args], input=stdin, capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=_env(**env))


def _env(**env: str) -> dict[str, str]:
    """This environment, ``env`` and the package under test (whatever the working directory)."""
    return {**os.environ, **env, "PYTHONPATH": str(Path(km.__file__).resolve().parents[1])}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("streams")
    problem, sol = tmp / "p.json", tmp / "s.json"
    assert main(["generate", "--region", "Bretagne", "--employees", "120", "--seed", "5", "-o", str(problem)]) == 0
    assert main(["solve", str(problem), "-o", str(sol), "--method", "greedy", "-q"]) == 0
    return tmp, problem, sol


def _edited(tmp, sol, name, **changes):
    doc = json.loads(sol.read_text())
    doc.update(changes)
    path = tmp / name
    path.write_text(json.dumps(doc))
    return path


# --- streams -------------------------------------------------------------------------------------------

def test_solve_to_stdout_writes_no_file_named_dash(files, tmp_path):
    _, problem, sol = files
    r = run("solve", str(problem), "-o", "-", "--method", "greedy", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == sol.read_text()  # the same bytes as the file
    assert not (tmp_path / "-").exists()


def test_problem_and_solution_read_from_stdin(files):
    _, problem, sol = files
    r = run("check", "-", str(sol), stdin=problem.read_text())
    assert r.returncode == 0 and r.stdout.startswith("feasible"), r.stderr
    r = run("report", str(problem), "-", stdin=sol.read_text())
    assert r.returncode == 0 and "hours assigned" in r.stdout, r.stderr


def test_stdin_only_once(files, capsys):
    assert main(["check", "-", "-"]) == 2
    assert "cannot both be '-'" in capsys.readouterr().err


def test_generate_to_stdout_is_a_json_problem(tmp_path):
    r = run("generate", "--region", "Bretagne", "--employees", "30", "-o", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert km.io.problem_from_dict(json.loads(r.stdout)).n_employees == 30
    assert "generated" in r.stderr and not (tmp_path / "-").exists()


def test_a_closed_stdout_is_one_message(files):
    """``koeeo-match solve p.json -o - >&-`` was an AttributeError traceback (``sys.stdout`` is None); a
    command printing to it ended 0 with its output lost."""
    _, problem, sol = files
    for args in (["-q", "solve", str(problem), "-o", "-", "--method", "greedy"], ["report", str(problem), str(sol)]):
        r = subprocess.run([sys.executable, "-m", "koeeo_match", *args], stderr=subprocess.PIPE, text=True,
                           timeout=300, env=_env(), preexec_fn=lambda: os.close(1))  # started with stdout closed
        assert r.returncode == 2
        assert r.stderr == "koeeo-match: error: [Errno 9] standard output is closed: nowhere to write the output\n"
    r = subprocess.run([sys.executable, "-m", "koeeo_match", "solve", str(problem), "-o", "-", "--method", "greedy"],
                       capture_output=True, text=True, timeout=300, env=_env(),
                       preexec_fn=lambda: os.close(2))  # stderr closed: its progress lines went into the output
    assert r.returncode == 0 and r.stdout == sol.read_text()


def test_a_closed_stdin_is_one_message(files):
    """``koeeo-match check - s.json <&-`` was an AttributeError traceback (``sys.stdin`` is None)."""
    _, _, sol = files
    r = subprocess.run([sys.executable, "-m", "koeeo_match", "check", "-", str(sol)], capture_output=True, text=True,
                       timeout=300, env=_env(), preexec_fn=lambda: os.close(0))  # started with stdin closed
    assert r.returncode == 2, r.stderr
    assert "standard input is closed" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_reader_gone_early_ends_the_command_quietly(files):
    """``koeeo-match ... | head``: the reader closes the pipe; the command stops with no traceback."""
    _, problem, sol = files
    for args in (["solve", str(problem), "-o", "-", "--method", "greedy"], ["report", str(problem), str(sol)]):
        proc = subprocess.Popen([sys.executable, "-m", "koeeo_match", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=_env())
        proc.stdout.close()  # before the command writes anything
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 2 and "Traceback" not in err and "Exception" not in err


def test_a_reader_gone_after_a_part_is_not_a_success():
    """``generate -o - | head -c 10`` exited 0: the first write into the pipe took 64 KiB of the
    output and returned; the rest was lost without an error (a truncated output reported as done)."""
    proc = subprocess.Popen([sys.executable, "-m", "koeeo_match", "generate", "--region", "Bretagne",
                             "--employees", "3000", "-o", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    assert proc.stdout.read(10) == b'{\n "format'  # a part of an output far over a pipe's buffer
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 2 and "Traceback" not in err, err


_NOISY = """
import os, sys, threading, time
import koeeo_match as km
from koeeo_match import cli
real = km.solve
def solve(*a, **k):
    os.write(1, b"native solver chatter\\n")  # a C++ library writing on file descriptor 1
    import ctypes
    ctypes.CDLL(None).printf(b"buffered C chatter\\n")  # through the C library's own buffer (a pipe: not flushed)
    if os.environ.get("LEAVE_THREAD"):  # a HiGHS run left to end at its own limit, not a daemon here
        threading.Thread(target=time.sleep, args=(120,), name="highs-mip").start()
    return real(*a, **k)
km.solve = solve
sys.argv = ["koeeo-match", *sys.argv[1:]]
cli.script()
"""


@pytest.mark.parametrize("leave", ["", "1"])
def test_native_output_and_left_solver_threads_stay_out_of_the_result(files, leave):
    """What native code writes on file descriptor 1 during a solve goes to stderr, not into a
    solution written on standard output; a solver thread left running (HiGHS abandoned at its limit)
    neither holds the process nor kills it after the output is written."""
    _, problem, sol = files
    r = subprocess.run([sys.executable, "-c", _NOISY, "solve", str(problem), "-o", "-", "--method", "greedy", "-q"],
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in _env(LEAVE_THREAD=leave).items() if k != "PYTHONUNBUFFERED"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == sol.read_text()
    assert "native solver chatter" in r.stderr and "buffered C chatter" in r.stderr


def test_a_terminal_that_is_not_utf8_gets_escapes(files):
    """Labels (département) and ids that the output's encoding lacks are written as escapes; they were a
    UnicodeEncodeError (report and pipeline stopped half-way, --help and an error message a traceback)."""
    _, problem, sol = files
    r = run("report", str(problem), str(sol), PYTHONIOENCODING="ascii")
    assert r.returncode == 0 and "worst-decile d\\xe9partement coverage" in r.stdout, r.stderr
    r = run("explain", str(problem), str(sol), "café", PYTHONIOENCODING="ascii")
    assert r.returncode == 2 and "caf\\xe9" in r.stderr and "Traceback" not in r.stderr
    r = run("generate", "-h", PYTHONIOENCODING="ascii")
    assert r.returncode == 0 and "d\\xe9partement" in r.stdout and not r.stderr


def test_solution_to_npz_refused_before_any_work(tmp_path, capsys):
    # the problem does not even exist: the output is refused first, and nothing is written
    assert main(["solve", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"koeeo-match: error: argument -o/--output: {tmp_path / 'x.npz'}")
    # the CLI's reason (km.dump writes JSON that km.load cannot read back), or km.dump's own refusal
    assert "cannot write a solution as '.npz'" in err or "not .npz" in err
    assert "missing.json" not in err and not (tmp_path / "x.npz").exists()


def test_output_refused_with_km_dump_reason(tmp_path, capsys, monkeypatch):
    def dump(obj, path, **kw):
        raise ValueError(f"{path}: unknown extension '.txt'")

    monkeypatch.setattr(km, "dump", dump)
    assert main(["generate", "--region", "Bretagne", "--employees", "30", "-o", str(tmp_path / "p.txt")]) == 2
    err = capsys.readouterr().err
    assert err == f"koeeo-match: error: argument -o/--output: {tmp_path / 'p.txt'}: unknown extension '.txt'\n"
    assert "generated" not in err


def test_problem_to_npz_still_written(tmp_path):
    out = tmp_path / "p.npz"
    assert main(["generate", "--region", "Bretagne", "--employees", "30", "-o", str(out)]) == 0
    assert km.load(out).n_employees == 30


# --- check --json and report --json -----------------------------------------------------------------------

def test_check_json_feasible(files, capsys):
    _, problem, sol = files
    capsys.readouterr()
    assert main(["check", str(problem), str(sol), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"feasible": True, "violations": []}


def test_check_json_infeasible_exact_shape(files, capsys):
    tmp, problem, sol = files
    p = km.load(problem)
    rows = [{"employee": p.employees.ids[0], "mission": m} for m in p.missions.ids[:3]]
    bad = _edited(tmp, sol, "bad.json", assignments=rows + [{"employee": "nobody", "mission": p.missions.ids[0]}])
    capsys.readouterr()
    assert main(["check", str(problem), str(bad), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"feasible", "violations"} and doc["feasible"] is False
    assert all(set(v) == VIOLATION_KEYS for v in doc["violations"])
    assert doc["violations"][0] == {"rule": "unknown_id", "employee": "nobody", "mission": p.missions.ids[0],
                                    "message": "the employee or mission is not in the problem"}


def test_violation_to_dict_maps_roles():
    assert Violation("seats", ("m1",), "3 for 2").to_dict() == {
        "rule": "seats", "employee": None, "mission": "m1", "message": "3 for 2"}
    assert Violation("one_per_date", ("e1",), "2 missions").to_dict()["employee"] == "e1"
    d = Violation("max_per_employer", ("m1", "acme"), "3 volunteers").to_dict()
    assert d["mission"] == "m1" and d["employee"] is None and "'acme'" in d["message"]
    assert Violation("recorded_bound", (), "x").to_dict() == {
        "rule": "recorded_bound", "employee": None, "mission": None, "message": "x"}


def test_report_json_is_one_object(files, capsys):
    _, problem, sol = files
    capsys.readouterr()
    assert main(["report", str(problem), str(sol), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["feasible"] is True and doc["solution"]["method"] == "greedy"
    assert doc["metrics"]["assignments"] == len(km.load(sol)) and "shortfall" in doc["shortfall"]
    assert doc["recorded_flags"] == []


# --- solution files validated -----------------------------------------------------------------------------

def test_unknown_key_in_solution_refused(files, capsys):
    tmp, problem, sol = files
    path = _edited(tmp, sol, "extra.json", colour="blue")
    assert main(["check", str(problem), str(path)]) == 2
    assert "field 'colour': unknown key" in capsys.readouterr().err


@pytest.mark.parametrize("changes, field", [({"objective": 10**400}, "objective"), ({"bound": -(10**400)}, "bound"),
                                           ({"metrics": {"bound": 10**309}}, "metrics")])
def test_an_integer_beyond_the_float_range_is_named(files, capsys, changes, field):
    """1e400 written out as an integer (401 digits) was an OverflowError traceback from check, report and
    explain."""
    tmp, problem, sol = files
    path = _edited(tmp, sol, "huge.json", **changes)
    for argv in (["check", problem, path], ["report", problem, path], ["explain", problem, path, "x"]):
        capsys.readouterr()
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert f"file, field {field!r}: " in err and "expected a number within the float range" in err


def test_wrong_solution_format_says_not_a_solution(files):
    tmp, problem, sol = files
    doc = json.loads(sol.read_text())
    doc["format"] = "koeeo-match-solution/9"
    with pytest.raises(km.InvalidProblemError, match="not a solution file: format is 'koeeo-match-solution/9'"):
        km.Solution.from_dict(doc)


def test_solution_given_as_problem(files, capsys):
    tmp, problem, sol = files
    assert main(["solve", str(sol), "-o", str(tmp / "o.json")]) == 2
    assert "is a solution file (koeeo-match-solution/1), not a problem" in capsys.readouterr().err
    assert main(["check", str(problem), str(problem)]) == 2
    assert "is a problem file (koeeo-match/1), not a solution" in capsys.readouterr().err


@pytest.mark.parametrize("changes, rule, text", [
    ({"status": "optimal", "bound": 1.0e6}, "recorded_status", "status optimal, but bound"),
    ({"bound": 0.5}, "recorded_bound", "below the objective"),
    ({"status": "infeasible"}, "recorded_status", "status infeasible with"),
    ({"status": "unknown"}, "recorded_status", "status unknown with"),
    ({"metrics": {"assigned_hours": 1.0e9}}, "recorded_metric", "metrics['assigned_hours'] is"),
    ({"metrics": {"assignments": 0}}, "recorded_metric", "metrics['assignments'] is 0"),
    ({"objective": 1.0e6, "bound": None, "status": "feasible"}, "recorded_objective",
     "under the policy the solution records"),
    ({"metrics": {"objective": 3.0}}, "recorded_objective", "but metrics['objective'] is 3"),
    # a metrics objective that is no number passed unseen (a helper's audit)
    ({"metrics": {"objective": float("nan")}}, "recorded_objective", "metrics['objective'] is nan, not a finite"),
    ({"metrics": {"objective": float("inf")}}, "recorded_objective", "metrics['objective'] is inf, not a finite"),
    ({"metrics": {"objective": "x"}}, "recorded_objective", "metrics['objective'] is 'x', not a finite"),
    ({"metrics": {"objective": True}}, "recorded_objective", "metrics['objective'] is True, not a finite"),
    ({"objective": None, "bound": None, "status": "feasible"}, "recorded_objective",
     "status feasible, but no finite objective is recorded"),
    ({"assignments": [], "metrics": {}, "bound": None, "status": "feasible", "objective": 50},
     "recorded_objective", "objective 50 with no assignment"),
    ({"policy": {"hours": 2.0}}, "recorded_objective", "under the policy the solution records"),
    # a file's own metrics contradicting its bound (they used to pass unseen)
    ({"metrics": {"bound": 1.0e6}}, "recorded_bound", "metrics['bound'] is 1000000.0, but the solution's bound"),
    ({"metrics": {"gap": 0.5}}, "recorded_bound", "metrics['gap'] is 0.5, but the bound and the objective"),
    ({"status": "optimal", "bound": None}, "recorded_status", "status optimal, but no bound is recorded"),
    # a bound that is no number (JSON's Infinity and NaN, which Python's reader takes) used to pass
    ({"bound": float("inf")}, "recorded_bound", "bound inf is not a finite number"),
    ({"status": "optimal", "bound": float("nan")}, "recorded_bound", "bound nan is not a finite number"),
    ({"bound": float("-inf")}, "recorded_bound", "bound -inf is not a finite number"),
    # the other figures of DESIGN §6 a file records (an audit's: shares at 1.0 and km at 0 passed)
    ({"metrics": {"employees_assigned_share": 1.5}}, "recorded_metric", "metrics['employees_assigned_share'] is 1.5"),
    ({"metrics": {"missions_filled_share": 1.5}}, "recorded_metric", "metrics['missions_filled_share'] is 1.5"),
    ({"metrics": {"missions_started_share": 1.5}}, "recorded_metric", "metrics['missions_started_share'] is 1.5"),
    ({"metrics": {"associations_served_share": 1.5}}, "recorded_metric", "metrics['associations_served_share']"),
    ({"metrics": {"mean_km": 1e6}}, "recorded_metric", "metrics['mean_km'] is 1000000.0"),
    ({"metrics": {"p95_km": 1e6}}, "recorded_metric", "metrics['p95_km'] is 1000000.0"),
    ({"metrics": {"co2_kg": -1.0}}, "recorded_metric", "metrics['co2_kg'] is -1.0"),
    ({"metrics": {"gini_hours_by_association": 1.5}}, "recorded_metric", "metrics['gini_hours_by_association']"),
    # a termination that contradicts the status (an audit's: it used to pass)
    ({"termination": "infeasible"}, "recorded_status", "but termination infeasible"),
    ({"status": "unknown", "assignments": [], "objective": None, "bound": None, "metrics": {},
      "termination": "optimal"}, "recorded_status", "status unknown, but termination optimal"),
    # no forced pair: leaving everyone unassigned is feasible, so "infeasible" is a false claim
    ({"status": "infeasible", "assignments": [], "objective": None, "bound": None, "metrics": {}},
     "recorded_status", "status infeasible, but the problem has no forced pair"),
])
def test_recorded_figures_checked(files, capsys, changes, rule, text):
    tmp, problem, sol = files
    path = _edited(tmp, sol, "recorded.json", **changes)
    capsys.readouterr()
    assert main(["check", str(problem), str(path)]) == 1
    out = capsys.readouterr().out
    assert f"[{rule}] " in out and text in out
    assert main(["report", str(problem), str(path)]) == 1
    out = capsys.readouterr().out
    assert "contradicted" in out and f"[{rule}]" in out


@pytest.mark.parametrize("metrics", [3, [1], True, "x", 0, [], False, ""])
def test_metrics_of_another_type_are_refused(files, capsys, metrics):
    """A falsy ``metrics`` (0, [], false, "") was read as no metrics; the others were already refused."""
    tmp, problem, sol = files
    path = _edited(tmp, sol, "metrics.json", metrics=metrics)
    capsys.readouterr()
    assert main(["check", str(problem), str(path)]) == 2
    assert "field 'metrics': expected an object" in capsys.readouterr().err
    assert main(["check", str(problem), str(_edited(tmp, sol, "none.json", metrics=None))]) == 0  # null: none


def test_an_id_with_a_nul_is_unknown(files):
    """numpy's strings drop a final NUL: ('e\\0', 'm') used to be checked as ('e', 'm'), and pass."""
    _, problem, sol = files
    p, s = km.load(problem), km.load(sol)
    e, m = s.assignments[0]
    assert [v.rule for v in km.check(p, [(e + "\0", m)])] == ["unknown_id"]
    assert [v.rule for v in km.check(p, [(e, m + "\0\0"), (e, m)])] == ["unknown_id"]


def test_the_recorded_figures_tolerance_sees_one_assignment_in_millions():
    """The tolerance was 1e-6 of the figure: 7 h missing from 11,000,007 h passed unseen."""
    from koeeo_match.check import _close

    assert not _close(11_000_007.0, 11_000_000.0) and not _close(14_335_027.0, 14_335_026.5)
    assert _close(14_335_027.0, 14_335_027.0 + 1e-3) and _close(0.1 + 0.2, 0.3) and _close(1e-7, 0.0)


def test_a_bound_not_recorded_is_not_called_nan(files, capsys):
    tmp, problem, sol = files
    doc = json.loads(sol.read_text())
    path = _edited(tmp, sol, "nobound.json", status="optimal", bound=None, metrics={**doc["metrics"], "bound": 1.0})
    capsys.readouterr()
    assert main(["check", str(problem), str(path)]) == 1
    out = capsys.readouterr().out
    assert "the solution's bound is not recorded" in out and "nan" not in out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5), weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5]), min_size=10, max_size=10),
       lexicographic=st.booleans(), method=st.sampled_from(["greedy", "auto", "fcfs"]))
def test_check_recomputes_the_solvers_objective_for_any_policy(seed, weights, lexicographic, method):
    """``check`` recomputes the policy value of the assignments by its own code: it equals the
    objective the solvers report for any weights (lexicographic or not), so a recorded objective
    that it contradicts is a real contradiction."""
    from koeeo_match.check import _policy_value

    w = dict(zip(km.TERMS, weights))
    if not any(w.values()):
        w["hours"] = 1.0
    gains = [t for t in km.TERMS if t not in ("travel_km", "co2_kg") and w[t] > 0]
    primary = (max(gains, key=lambda t: w[t]),) if lexicographic and gains else ()
    pol = km.Policy(**w, primary=primary)
    p = km.synth.city(employees=80, seed=seed, rules="all")
    s = km.solve(p, method=method, policy=pol, time_limit=10)
    e, m = s.employee, s.mission
    assert _policy_value(p, pol, e, m) == pytest.approx(s.objective, rel=1e-9, abs=1e-9)
    assert km.check(p, s) == []


def test_check_recomputes_affinities_and_preferences():
    """The affinity and preference terms (absent from generated cities) recomputed by ``check``."""
    from koeeo_match.check import _policy_value

    p = km.Problem.from_records(
        associations=[{"id": "a", "lat": 45.0, "lon": 5.0, "sector": "social"},
                      {"id": "b", "lat": 45.1, "lon": 5.0, "sector": "sport"}],
        employees=[{"id": "e", "lat": 45.0, "lon": 5.0, "prefers": {"sport": 2.0}},
                   {"id": "f", "lat": 45.0, "lon": 5.0, "prefers": {"social": 0.5}}],
        missions=[{"id": "m", "association": "a"}, {"id": "n", "association": "b"}],
        affinities=[{"employee": "e", "mission": "n", "score": 3.0}, {"employee": "f", "mission": "n", "score": 9.0}])
    pol = km.Policy(affinity=1.0, preference=10.0)
    s = km.solve(p, policy=pol)
    assert s.objective == pytest.approx(_policy_value(p, pol, s.employee, s.mission))
    assert _policy_value(p, pol, np.array([0, 1]), np.array([1, 0])) == pytest.approx(3.0 + 20.0 + 5.0)
    assert km.check(p, s) == []


def test_solver_solutions_have_consistent_records(files):
    _, problem, sol = files
    p = km.load(problem)
    assert km.check(p, km.load(sol)) == []
    assert km.check(p, km.solve(p, method="auto", time_limit=20)) == []


# --- ids escaped ------------------------------------------------------------------------------------------

def test_ids_cannot_forge_lines(files, capsys):
    tmp, problem, sol = files
    forged = "e\n[seats] m1: forged\x1b[31m"
    path = _edited(tmp, sol, "forged.json", assignments=[{"employee": forged, "mission": "m\u2028x"}])
    capsys.readouterr()
    assert main(["check", str(problem), str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == ["infeasible: 1 violation(s)",
                                "  [unknown_id] e\\n[seats] m1: forged\\x1b[31m, m\\u2028x: the employee or "
                                "mission is not in the problem"]
    assert main(["explain", str(problem), str(sol), forged]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "\\n" in err and "\x1b" not in err


def test_explain_escapes_a_known_id(files, tmp_path, capsys):
    _, problem, sol = files
    pdoc, sdoc = json.loads(problem.read_text()), json.loads(sol.read_text())
    old, new = sdoc["assignments"][0]["employee"], "e\nX\x1b[2J"
    for rec in pdoc["employees"]:
        rec["id"] = new if rec["id"] == old else rec["id"]
    for rec in sdoc["assignments"]:
        rec["employee"] = new if rec["employee"] == old else rec["employee"]
    (tmp_path / "p.json").write_text(json.dumps(pdoc))
    (tmp_path / "s.json").write_text(json.dumps(sdoc))
    capsys.readouterr()
    assert main(["explain", str(tmp_path / "p.json"), str(tmp_path / "s.json"), new]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "employee 'e\\nX\\x1b[2J': assigned" and "\x1b" not in out


# --- options and nesting ----------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, text", [
    (["solve", "p.json", "-o", "s.json", "--seed", "-1"], "argument --seed: must be an integer from 0 to"),
    (["solve", "p.json", "-o", "s.json", "--method", "cpsat", "--seed", str(2**31)],
     "argument --seed: must be an integer from 0 to 2147483647"),
    (["solve", "p.json", "-o", "s.json", "--top-k", "0"], "argument --top-k: must be an integer >= 1"),
    (["solve", "p.json", "-o", "s.json", "--time-limit", "nan"], "argument --time-limit: must be a number > 0"),
    (["solve", "p.json", "-o", "s.json", "--memory-limit", "-2"], "argument --memory-limit: must be a number > 0"),
    (["generate", "--region", "Bretagne", "--employees", "x", "-o", "p.json"],
     "argument --employees: must be an integer >= 1, got 'x'"),
    (["generate", "--national", "--multi-day-share", "1.5", "-o", "p.json"],
     "argument --multi-day-share: must be a number >= 0 and <= 1"),
    (["report", "p.json", "s.json", "--top", "-3"], "argument --top: must be an integer >= 0"),
    (["pipeline", "--region", "Bretagne", "--scale", "inf"], "argument --scale: must be a number > 0"),
])
def test_options_named(capsys, argv, text):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert text in capsys.readouterr().err


def test_deeply_nested_json(files, tmp_path, capsys):
    _, problem, sol = files
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for argv in (["solve", str(deep), "-o", str(tmp_path / "o.json")], ["check", str(problem), str(deep)],
                 ["report", str(deep), str(sol)], ["explain", str(problem), str(deep), "x"]):
        assert main(argv) == 2
        assert f"{deep} is nested too deeply to be read" in capsys.readouterr().err
    with pytest.raises(km.InvalidProblemError, match="nested too deeply"):
        km.load(deep)


def test_pipeline_json_to_stdout(tmp_path):
    r = run("pipeline", "--departement", "2A", "--scale", "0.05", "--json", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # only the JSON on stdout: the table went to stderr
    assert doc["violations"] == 0 and "stages" in doc
    assert "hours assigned" in r.stderr and not (tmp_path / "-").exists()


def test_policy_option_named(files, capsys):
    _, problem, sol = files
    assert main(["solve", str(problem), "-o", "-", "--policy", "bogus=1"]) == 2
    assert capsys.readouterr().err.startswith("koeeo-match: error: argument --policy: Unknown policy term 'bogus'")
    assert main(["explain", str(problem), str(sol), "x", "--policy", "nope"]) == 2
    assert "argument --policy: Unknown policy preset 'nope'" in capsys.readouterr().err


def test_json_output_values():
    import math

    import numpy as np

    from koeeo_match.cli import _finite

    assert _finite({"a": np.float64("nan"), "b": np.arange(2), "c": (1, np.int64(2)), "d": {"x": math.inf}}) == {
        "a": None, "b": [0, 1], "c": [1, 2], "d": {"x": None}}


def test_a_solution_file_with_a_wrong_format_is_read_as_a_solution(tmp_path):
    """A document with assignments is a solution: its wrong format is the one issue reported
    (read as a problem, it gave about ten unrelated ones)."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": "wrong", "status": "optimal", "objective": 1, "bound": 1,
                                "assignments": []}))
    with pytest.raises(km.InvalidProblemError) as info:
        km.load(path)
    assert len(info.value.issues) == 1 and "not a solution file" in str(info.value)


def test_a_numpy_objective_is_a_number_to_check():
    """A Solution built by hand with a numpy objective (float32, int64) is checked as a number, not
    reported as missing."""
    import dataclasses

    p = km.synth.city(employees=60, seed=4)
    s = km.solve(p, method="greedy")
    assert s.objective == float(np.float32(s.objective))  # max_hours: halves of hours, exact in float32
    assert km.check(p, dataclasses.replace(s, objective=np.float32(s.objective))) == []
    twice = dataclasses.replace(s, objective=np.int64(2 * s.objective), metrics={})
    assert km.check(p, dataclasses.replace(twice, policy=km.Policy(hours=2.0, primary=("hours",)))) == []
    bad = dataclasses.replace(s, objective=np.int64(s.objective + 1))
    assert [v.rule for v in km.check(p, bad)] == ["recorded_objective"] * 2


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 30), n=st.integers(20, 120), method=st.sampled_from(["greedy", "fcfs", "auto", "stable"]),
       rules=st.sampled_from(["flow", "all"]))
def test_check_recomputes_the_metrics_by_its_own_code(seed, n, method, rules):
    """The §6 figures ``check`` recomputes (koeeo_match._check_figures, no code of metrics.py) equal
    what a solve records: a recorded figure that they contradict is a real contradiction."""
    from koeeo_match._check_figures import figures

    p = km.synth.city(employees=n, seed=seed, rules=rules)
    try:
        s = km.solve(p, method=method)
    except km.UnsupportedError:  # stable refuses some every-rule instances
        return
    mine = figures(p, s.employee, s.mission)
    for key, value in mine.items():
        assert value == pytest.approx(s.metrics[key], rel=1e-9, abs=1e-9), key
    assert km.check(p, s) == []


def test_report_shows_the_solve_seconds_a_file_records(files, capsys):
    """``solve_seconds`` (a metric of DESIGN.md §6) was in no report (a contract audit's finding):
    ``report`` now shows it where the file records it (``km.dump(..., timings=True)``), null where
    it does not (the default, for the same bytes on every run)."""
    tmp, problem, sol = files
    timed = tmp / "timed.json"
    p = km.load(problem)
    km.dump(km.solve(p, method="greedy"), timed, timings=True)
    capsys.readouterr()
    assert main(["report", str(problem), str(timed), "--json"]) == 0
    seconds = json.loads(capsys.readouterr().out)["solution"]["solve_seconds"]
    assert isinstance(seconds, float) and seconds >= 0
    assert main(["report", str(problem), str(timed)]) == 0
    assert " s\n" in capsys.readouterr().out.split("check   :")[0]
    assert main(["report", str(problem), str(sol), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["solution"]["solve_seconds"] is None
