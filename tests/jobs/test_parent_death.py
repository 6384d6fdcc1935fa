"""jobs.runtime.parent_death: a child asks to die with its parent, even when the parent is already gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.proctree import read_stat, running, wait_all_gone
from tests.support.stack import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# The parent forks and exits at once; the child then calls die_with_parent with the pid of
# its former parent (the race the getppid() check closes) or, with WAIT, waits first.
SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import jobs.runtime.parent_death
    from jobs.runtime.parent_death import die_with_parent
    parent = os.getpid()
    marker, mode = sys.argv[1], sys.argv[2]
    if mode == "watchdog":  # what other platforms get: a thread watching getppid()
        jobs.runtime.parent_death._prctl = lambda: None
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        if mode != "early":
            time.sleep(60)  # killed by the test once the child asked
        os._exit(0)
    if mode == "early":
        while os.getppid() == parent:
            time.sleep(0.01)
    die_with_parent(parent)
    open(marker, "w").write("asked\\n")
    time.sleep(60)
    open(marker, "a").write("survived\\n")
    """
)


def wait_for(path: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.exists()


@pytest.mark.parametrize("mode", ["early", "late", "watchdog"])
def test_the_child_dies_with_its_parent(tmp_path: Path, mode: str) -> None:
    """early: the parent died before the request; late: after it (the kernel's signal or,
    watchdog, the thread)."""
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marker), mode], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    child = read_stat(int(proc.stdout.readline()))
    assert child is not None, "the child is gone before it could be watched"  # it waits for its parent
    try:
        if mode != "early":
            assert wait_for(marker), "the child never asked"
            proc.kill()
        proc.wait(timeout=30)
        assert wait_all_gone([child], timeout=30) == [], "the child outlived its parent"
        assert not marker.exists() if mode == "early" else marker.read_text() == "asked\n"
    finally:
        proc.kill()
        if running([child]):
            os.kill(child.pid, signal.SIGKILL)
