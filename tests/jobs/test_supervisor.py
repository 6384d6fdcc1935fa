"""jobs.cli.supervisor: the whole process group, a second signal, a child that exits."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from jobs.cli.supervisor import Supervisor, describe_exit
from tests.support.proctree import descendants, wait_all_gone

# Ignores SIGTERM and forks a grandchild that ignores it too: only SIGKILL to the group ends both.
STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    time.sleep(3600)
open(sys.argv[1], "w").write("up")
time.sleep(3600)
"""
POLITE = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); time.sleep(3600)"


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_describe_exit() -> None:
    assert describe_exit(0) == "code 0"
    assert describe_exit(3) == "code 3"
    assert describe_exit(-9) == "code -9 (SIGKILL)"


def test_a_second_signal_kills_the_whole_group_without_waiting_out_the_grace(tmp_path: Path) -> None:
    said: list[str] = []
    marker = tmp_path / "up"
    supervisor = Supervisor(say=said.append)
    child = supervisor.start(
        "stubborn", [sys.executable, "-c", STUBBORN, str(marker)], env=dict(os.environ), grace_s=3600
    )
    wait_for(marker)
    family = [p for p in descendants(os.getpid()) if child.pid in (p.pid, p.ppid)]
    assert len(family) == 2
    supervisor.signals.append(signal.SIGTERM)  # the first signal: an orderly stop begins

    stopper = threading.Thread(target=supervisor.stop_all)
    stopper.start()
    time.sleep(0.3)
    supervisor.signals.append(signal.SIGTERM)  # the impatient second one
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "the second signal did not cut the grace period short"
    assert wait_all_gone(family, timeout=30) == []
    assert said == [f"darkroom run: stubborn (pid {child.pid}) did not stop in time, killed"]


def test_a_child_that_exits_stops_the_others_and_says_which(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(say=said.append)
    env = dict(os.environ)
    first = supervisor.start("first", [sys.executable, "-c", POLITE], env=env, grace_s=30)
    second = supervisor.start("second", [sys.executable, "-c", POLITE], env=env, grace_s=30)
    quitter = supervisor.start("quitter", [sys.executable, "-c", "raise SystemExit(3)"], env=env, grace_s=30)
    assert supervisor.wait() == 1
    assert said == [f"darkroom run: quitter (pid {quitter.pid}) exited with code 3; stopping the others"]
    assert first.proc.returncode == 0 and second.proc.returncode == 0  # stopped by their SIGTERM
