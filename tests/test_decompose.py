"""decompose: the parts of a graph partition its arcs, keep components whole, and map indices both ways."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koeeo_match.decompose import Part, components, cut, pack


@st.composite
def graphs(draw):
    ne, nm = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    pairs = draw(st.sets(st.tuples(st.integers(0, ne - 1), st.integers(0, nm - 1)), max_size=40))
    pairs = sorted(pairs)
    e = np.array([p[0] for p in pairs], np.int32)
    m = np.array([p[1] for p in pairs], np.int32)
    return ne, nm, e, m, draw(st.integers(1, 15))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(graphs())
def test_parts_partition_the_arcs_and_keep_components_whole(g):
    ne, nm, e, m, target = g
    parts = cut(e, m, ne, nm, target)
    arcs = np.concatenate([p.arcs for p in parts]) if parts else np.zeros(0, np.int64)
    assert sorted(arcs.tolist()) == list(range(e.size))  # every arc once
    comp = components(ne, nm, e, m)[1][e] if e.size else np.zeros(0, np.int64)
    part_of = np.empty(e.size, np.int64)
    for i, p in enumerate(parts):
        part_of[p.arcs] = i
        assert np.all(np.diff(p.arcs) > 0)
        assert set(p.employees.tolist()) == set(e[p.arcs].tolist())
        assert set(p.missions.tolist()) == set(m[p.arcs].tolist())
        local = np.arange(len(p))
        assert np.array_equal(p.to_local(p.to_whole(local)), local)
    for c in np.unique(comp):  # a component never spans two parts
        assert np.unique(part_of[comp == c]).size == 1
    sizes = [len(p) for p in parts]
    assert sizes == sorted(sizes, reverse=True)


def test_to_local_refuses_an_arc_outside_the_part():
    p = Part(np.array([3, 7, 9]), np.array([0]), np.array([1]))
    assert p.to_local(np.array([9, 3])).tolist() == [2, 0]
    for foreign in ([8], [100], [3, 10], [0]):
        with pytest.raises(ValueError, match="not in the part"):
            p.to_local(np.array(foreign))


def _next_fit(sizes: list[int], target: int) -> dict[int, int]:
    """pack's rule, written plainly: non-empty components by size, largest first (ties by
    index), each opening a new part when it would take the current one past ``target``."""
    part, current, fill = {}, -1, target
    for c in sorted((c for c in range(len(sizes)) if sizes[c] > 0), key=lambda c: (-sizes[c], c)):
        if fill + sizes[c] > target:
            current, fill = current + 1, 0
        part[c] = current
        fill += sizes[c]
    return part


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 12), max_size=30), st.integers(1, 15))
def test_pack_is_next_fit_and_empty_components_open_no_part(sizes, target):
    part = pack(np.array(sizes, np.int64), target)
    want = _next_fit(sizes, target)
    assert {c: int(part[c]) for c in want} == want
    used = set(want.values())
    assert used == set(range(len(used)))  # parts numbered 0.. with no gap, each holding arcs
    assert all(0 <= int(part[c]) < max(len(used), 1) for c in range(len(sizes)) if sizes[c] == 0)
