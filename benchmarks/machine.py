"""What the benchmarks ran on."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _commit(root: str) -> str | None:
    """The checked-out commit, read from .git (without running git)."""
    try:
        git = os.path.join(root, ".git")
        head = open(os.path.join(git, "HEAD")).read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        p = os.path.join(git, ref)
        if os.path.exists(p):
            return open(p).read().strip()
        packed = os.path.join(git, "packed-refs")
        if os.path.exists(packed):
            for line in open(packed):
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    except OSError:
        pass
    return None


def describe(root: str | None = None) -> dict[str, Any]:
    """The machine, the versions of the libraries, and the commit of ``root`` (default: the
    checkout these benchmarks are in; None outside a git checkout)."""
    root = root or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "cores": cores,
        "logical_cpus": os.cpu_count(),
        "memory_bytes": _mem_total(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": sys.implementation.name,
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "ortools": _version("ortools"),
        "pylmcf": _version("pylmcf"),
        "networkx": _version("networkx"),
        "matplotlib": _version("matplotlib"),
        "koeeo_match": _version("koeeo-match"),
        "koeeo_match_commit": _commit(root),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
