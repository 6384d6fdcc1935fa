"""Process trees from ``/proc`` (Linux): who descends from a PID, and whether they are gone.

A process is named by ``(pid, start time)`` so a PID the kernel reuses while a test polls is
not mistaken for the process it was; a zombie counts as gone (it runs nothing any more).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str
    start: int  # clock ticks after boot: with the pid, names one process
    name: str


def read_stat(pid: int) -> ProcInfo | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()  # fields 3… (the name may contain spaces)
    return ProcInfo(pid=pid, ppid=int(fields[1]), state=fields[0], start=int(fields[19]), name=name)


def all_processes() -> list[ProcInfo]:
    found = (read_stat(int(p.name)) for p in PROC.iterdir() if p.name.isdigit())
    return [info for info in found if info is not None]


def descendants(pid: int) -> list[ProcInfo]:
    """Every living process below ``pid`` (children, their children, …)."""
    children: dict[int, list[ProcInfo]] = {}
    for info in all_processes():
        children.setdefault(info.ppid, []).append(info)
    found: list[ProcInfo] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.state != "Z":
                found.append(child)
                todo.append(child.pid)
    return found


def running(procs: Iterable[ProcInfo]) -> list[ProcInfo]:
    """Those of ``procs`` that still run (same pid *and* start time, not a zombie)."""
    alive = []
    for proc in procs:
        now = read_stat(proc.pid)
        if now is not None and now.start == proc.start and now.state != "Z":
            alive.append(now)
    return alive


def wait_all_gone(procs: Iterable[ProcInfo], timeout: float) -> list[ProcInfo]:
    """Poll until none of ``procs`` runs; return those still running at the deadline."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while (left := running(procs)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def wait_for_descendants(
    pid: int, predicate: Callable[[list[ProcInfo]], bool], timeout: float, what: str
) -> list[ProcInfo]:
    """Poll ``descendants(pid)`` until ``predicate(list)`` holds; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = descendants(pid)
        if predicate(found):
            return found
        time.sleep(0.1)
    pytest.fail(f"{what}: not after {timeout} s; below {pid}: {descendants(pid)}")
