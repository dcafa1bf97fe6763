"""Compare two snapshots of tools/snapshot_outputs.py file by file, byte for byte.

Usage: ``python tools/compare_outputs.py BEFORE AFTER [KEY ...]``: solution files (JSON) are compared
with the listed top-level keys left out.  Exit status 1 when a file differs or exists on one side only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def differs(a: Path, b: Path, ignore: set[str]) -> bool:
    """Whether two files of the snapshots differ (JSON without the ``ignore`` keys)."""
    ta, tb = a.read_text(), b.read_text()
    if a.suffix == ".json" and ignore:
        da, db = json.loads(ta), json.loads(tb)
        for key in ignore:
            da.pop(key, None)
            db.pop(key, None)
        return da != db
    return ta != tb


def main(before: Path, after: Path, ignore: set[str]) -> int:
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    bad = 0
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            print("only in one:", name)
            bad += 1
        elif differs(a, b, ignore):
            print("DIFFERS:", name)
            bad += 1
    print(f"{len(names)} files, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), set(sys.argv[3:])))
