"""The package's imports point one way (DESIGN.md §2).

Every module of ``src/koeeo_match`` belongs to a room (its top-level module or
package), and every room to a layer below.  A module may import from its own
room and from rooms of the same or a lower layer, never from a higher one;
imports inside functions count too (only ``if TYPE_CHECKING:`` blocks, which
never run, are left out).  The module graph has no cycle, and no module takes
a private name (``_x``) or a private submodule from another room: a room
shares what it makes public.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "koeeo_match"

#: Lowest first.  A room imports only from its own layer or below.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "_arrays", "_geo", "_log", "_malloc", "_params", "_cli_opts", "status", "parallel"),  # helpers
    ("territory",),  # reference data (départements)
    ("model",),  # the tables, built from records and frames
    ("policy", "decompose"),  # scores; parts of a graph
    ("synth", "candidates"),  # generated problems; the candidate graph
    ("preferences",),  # rankings over the candidate graph (stable matching)
    ("solvers",),  # one file per method
    ("metrics", "check", "_check_figures", "stability", "explain", "memory", "pareto"),  # a result; a solve's needs
    ("solution",),  # the result
    ("io",),  # files
    ("result",),  # a solver's raw result as a Solution
    ("pinned", "streamed", "solve_params", "engine"),  # pinned assignments; fcfs without its graph; the one solve path
    ("pipeline", "sweep", "whatif", "plot", "simulate", "batching", "year_records"),  # built on solve; the year,
    # its batches and their records
    ("cli", "__main__", "__init__"),
]
RANK = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """``(module, name, line)`` for every import of koeeo_match code in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str | None, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "koeeo_match":
                        found.append((alias.name, None, child.lineno))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                elif child.module and child.module.split(".")[0] == "koeeo_match":
                    target = child.module
                else:
                    continue
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    # ``from . import x`` names a module when x is one
                    if (SRC.parent / Path(*sub.split("."))).with_suffix(".py").exists() or (
                        SRC.parent / Path(*sub.split(".")) / "__init__.py"
                    ).exists():
                        found.append((sub, None, child.lineno))
                    else:
                        found.append((target, alias.name, child.lineno))
            visit(child)

    visit(tree)
    return found


FILES = sorted(SRC.rglob("*.py"))


def _graph() -> tuple[nx.DiGraph, list[tuple[str, str, str | None, int]]]:
    g = nx.DiGraph()
    edges = []
    for path in FILES:
        src = _module_name(path)
        g.add_node(src)
        for target, name, line in _imports(path):
            if target != src:
                g.add_edge(src, target)
            edges.append((src, target, name, line))
    return g, edges


def test_every_room_has_a_layer():
    rooms = {_room(_module_name(p)) for p in FILES}
    missing = sorted(rooms - set(RANK))
    assert not missing, f"rooms without a layer in LAYERS: {missing}"


def test_imports_point_down():
    _, edges = _graph()
    wrong = [
        f"{src}:{line} imports {target} ({_room(target)}, layer {RANK.get(_room(target))}) "
        f"from layer {RANK.get(_room(src))}"
        for src, target, _, line in edges
        if RANK.get(_room(target), -1) > RANK.get(_room(src), -1)
    ]
    assert not wrong, "imports that point up:\n" + "\n".join(wrong)


def test_no_import_cycle():
    g, _ = _graph()
    # every edge counts, a package's __init__ importing its submodules included: a cycle through a
    # package (its __init__ -> a submodule -> a module that imports the package) is still a cycle
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles[:10])


def test_no_private_name_across_rooms():
    _, edges = _graph()
    wrong = []
    for src, target, name, line in edges:
        if _room(src) == _room(target):
            continue
        inner = target.split(".")[2:]  # below the room
        if any(p.startswith("_") for p in inner) or (name is not None and name.startswith("_")):
            wrong.append(f"{src}:{line} takes {target}{'.' + name if name else ''}")
    assert not wrong, "private names taken from another room:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_size(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 600, f"{path.relative_to(SRC)} has {n} lines: split it by job"
