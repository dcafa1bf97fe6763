"""koeeo_match benchmark suite.

``python -m benchmarks`` (from the repository root) runs every method on
``km.synth.france(seed=0, scale=n/2_857_143, rules="flow")`` for n from 1k
employees to the national instance (2,857,143 employees, 20 M hours), each
(size, method) in a fresh subprocess (``python -m benchmarks.one``), all on the
same candidate graph (``km.build_candidates(problem,
km.Policy.preset("max_hours"), k=TOP_K)`` with ``TOP_K = 5``); then the top-k
cap experiment; then ``python -m benchmarks.report`` writes
``docs/benchmarks.md`` and its plots from ``benchmarks/results/results.json``.
"""

from .common import METHODS, NATIONAL, QUICK_SIZES, SIZES, TOP_K

__all__ = ["METHODS", "NATIONAL", "QUICK_SIZES", "SIZES", "TOP_K"]
