"""``darkroom run`` stops everything it started, whichever way it is told to, and dies as one.

Only the ``darkroom run`` PID is signalled (never its group): SIGTERM, SIGINT or SIGHUP must
stop every process below it — the private redis-server, the API, the worker pool's master
and the processes the master forked (worker process, metrics exporter) — and exit 0. A child
that dies on its own takes the others down, after one line naming it and its exit code.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jobs.cli.services import WORKER_GRACE_S
from tests.support.embedded import embedded_env, start_darkroom_run
from tests.support.proctree import ProcInfo, descendants, running, wait_all_gone, wait_for_descendants
from tests.support.servers import free_port, require_redis_binary, wait_for_port

pytestmark = pytest.mark.e2e
STOP_TIMEOUT_S = WORKER_GRACE_S + 30  # the longest grace period, and slack for a busy machine


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    log_path: Path
    children: list[ProcInfo] = field(default_factory=list)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def role(proc: ProcInfo, run_pid: int) -> str:
    line = cmdline(proc.pid)
    if proc.ppid == run_pid:
        if proc.name == "redis-server" or "redis-server" in line:
            return "redis-server"
        return "API" if "jobs.cli.main api" in line else "pool master" if "-m worker" in line else line
    return "forked by the pool"


def full_tree(found: list[ProcInfo], run_pid: int) -> bool:
    """Redis, the pool's master and what it forks are up (and the API, if it is a child)."""
    roles = [role(p, run_pid) for p in found]
    return {"redis-server", "pool master"} <= set(roles) and roles.count("forked by the pool") >= 2


@contextmanager
def darkroom_run(tmp_path: Path) -> Iterator[Run]:
    require_redis_binary()
    http_port = free_port()
    env = embedded_env(
        tmp_path / "data",
        http_port=http_port,
        redis_port=free_port(),
        DARKROOM_METRICS_PORT=str(free_port()),  # the pool forks its exporter too
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = start_darkroom_run(env, log)
        run = Run(proc, log_path)
        try:
            wait_for_port(http_port, timeout=60)
            yield run
        finally:
            found = run.children + (descendants(proc.pid) if proc.poll() is None else [])
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            for child in running(found):  # nothing outlives the test, whatever it found
                with suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)


def children_of(run: Run) -> list[ProcInfo]:
    run.children = wait_for_descendants(
        run.proc.pid,
        lambda found: full_tree(found, run.proc.pid),
        60,
        "redis-server, the pool master and its worker process and exporter",
    )
    return run.children


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_to_the_parent_alone_stops_every_child(tmp_path: Path, sig: signal.Signals) -> None:
    with darkroom_run(tmp_path) as run:
        children = children_of(run)
        os.kill(run.proc.pid, sig)
        try:
            code = run.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"darkroom run did not exit on {sig.name}:\n{run.output()[-3000:]}")
        left = wait_all_gone(children, timeout=30)
        assert left == [], f"left running after {sig.name}: {left}\n{run.output()[-3000:]}"
        assert code == 0, run.output()[-3000:]


@pytest.mark.parametrize("victim", ["redis-server", "pool master", "API"])
def test_a_child_that_dies_takes_the_others_down_and_says_so(tmp_path: Path, victim: str) -> None:
    with darkroom_run(tmp_path) as run:
        children = children_of(run)
        [dead] = [p for p in children if role(p, run.proc.pid) == victim]
        os.kill(dead.pid, signal.SIGKILL)
        try:
            code = run.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"darkroom run kept running without its {victim}:\n{run.output()[-3000:]}")
        left = wait_all_gone(children, timeout=30)
        assert left == [], f"left running after the {victim} died: {left}\n{run.output()[-3000:]}"
        assert code == 1
        lines = [line for line in run.output().splitlines() if f"(pid {dead.pid}) exited" in line]
        assert len(lines) == 1, run.output()[-3000:]
        assert re.search(
            rf"\(pid {dead.pid}\) exited with code -9 \(SIGKILL\); stopping the others", lines[0]
        )


def test_even_a_sigkilled_parent_leaves_no_child_behind(tmp_path: Path) -> None:
    """It cannot stop them itself: each child gets SIGTERM from the kernel (PR_SET_PDEATHSIG)."""
    with darkroom_run(tmp_path) as run:
        children = children_of(run)
        os.kill(run.proc.pid, signal.SIGKILL)
        assert run.proc.wait(timeout=30) == -signal.SIGKILL
        left = wait_all_gone(children, timeout=STOP_TIMEOUT_S)
        assert left == [], f"orphaned by a SIGKILLed darkroom run: {left}\n{run.output()[-3000:]}"
