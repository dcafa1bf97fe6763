"""Execute the documentation notebooks and store their outputs in place.

``python tools/run_notebooks.py [NOTEBOOK ...]`` runs every notebook given (default: every
``docs/notebooks/*.ipynb``) top to bottom in a fresh kernel, from the notebook's own folder, and
writes the executed notebook back over the file, so that the outputs committed in ``docs/`` are the
ones of the last run (the site renders them as stored, see ``mkdocs.yml``).  A cell that raises, or
runs longer than ``--timeout`` seconds, stops the run with exit status 1 and leaves the file as it
was.  With no notebook to run it says so and exits 0.  Needs the ``notebook`` extra
(``pip install -e '.[notebook]'``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "docs" / "notebooks"


def run(path: Path, timeout: float) -> float:
    """Execute ``path`` in a new kernel and write it back with its outputs; return the seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: docs/notebooks/*.ipynb")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per cell (default 600)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(DEFAULT_DIR.glob("*.ipynb"))
    if not paths:
        print(f"notebooks: none in {DEFAULT_DIR}, nothing to run")
        return 0
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    total = 0.0
    for path in paths:
        try:
            seconds = run(path, args.timeout)
        except (CellExecutionError, CellTimeoutError) as err:
            print(f"notebooks: {path} failed:\n{err}", file=sys.stderr)
            return 1
        total += seconds
        print(f"notebooks: {path} executed in {seconds:.1f} s, outputs written back")
    print(f"notebooks: {len(paths)} run in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
