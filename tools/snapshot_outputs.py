"""Dump what the library outputs on the test catalogue and a few generated instances, to compare two
versions of the code byte for byte (a refactor must not change them).

Usage, from a checkout: ``PYTHONPATH=src python tools/snapshot_outputs.py OUTDIR``, once per version;
then ``python tools/compare_outputs.py BEFORE AFTER [KEY ...]`` (solution keys to leave out, e.g. one
that the newer version adds).  It solves every catalogue case (tests/test_catalogue.py) and three
generated instances with every method (two policies each), plus a capped graph, an explanation, a
check and a diff.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import koeeo_match as km  # noqa: E402  (after the tests folder is on the path)
from koeeo_match.errors import UnsupportedError  # noqa: E402

import test_catalogue as tc  # noqa: E402
from conftest import make  # noqa: E402

METHODS = ("flow", "cpsat", "auto", "greedy", "fcfs", "stable")


def _solve(out: Path, name: str, problem: km.Problem, **kw: object) -> None:
    try:
        doc = km.solve(problem, seed=0, **kw).to_dict()  # type: ignore[arg-type]
        (out / f"{name}.json").write_text(json.dumps(doc, sort_keys=True, indent=0))
    except UnsupportedError as err:
        (out / f"{name}.err").write_text(str(err))


def main(out: Path) -> None:
    warnings.simplefilter("ignore")
    out.mkdir(parents=True, exist_ok=True)
    for case in tc.CASES:
        problem = make(**case.records)
        for method in METHODS:
            _solve(out, f"cat_{case.name}_{method}", problem, method=method, policy=tc._policy(case))
    instances = {
        "city300_all": km.synth.city(employees=300, seed=1),
        "city300_flow": km.synth.city(employees=300, seed=2, rules="flow"),
        "bret2000_flow": km.synth.region("Bretagne", employees=2000, seed=0, rules="flow"),
    }
    for name, problem in instances.items():
        for method in METHODS:
            if name.startswith("bret") and method == "cpsat":
                continue
            for policy in ("max_hours", "balanced"):
                _solve(out, f"{name}_{method}_{policy}", problem, method=method, policy=policy)
        capped = km.solve(problem, method="flow" if "flow" in name else "greedy", top_k=3, seed=0)
        (out / f"{name}_topk3.json").write_text(json.dumps(capped.to_dict(), sort_keys=True, indent=0))
        (out / f"{name}_explain.txt").write_text(str(km.explain(problem, capped, problem.employees.ids[0])))
        (out / f"{name}_check.txt").write_text(repr(km.check(problem, capped)))
        other = km.solve(problem, method="greedy", seed=0)
        (out / f"{name}_diff.txt").write_text(str(km.diff(problem, capped, other)))
    print(f"{len(list(out.iterdir()))} files in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
