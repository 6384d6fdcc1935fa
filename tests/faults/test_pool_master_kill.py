"""A worker pool whose master is SIGKILLed does not leave its processes running (Dramatiq #788).

Only the master's PID is signalled (not its process group, which is what a supervisor or the
OOM killer does): every process it forked (the worker processes and the metrics exporter)
must then stop by itself; otherwise a restarted pool would consume beside the orphans.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest
import redis

from jobs.contract.constants import WORKERS_KEY
from jobs.contract.settings import Settings
from tests.support.proctree import wait_all_gone, wait_for_descendants
from tests.support.servers import free_port, wait_for_port
from tests.support.stack import start_worker

pytestmark = pytest.mark.e2e
PROCESSES = 2


def wait_for_beats(redis_url: str, count: int, timeout: float) -> None:
    """Each worker process beats once booted, so its ``after_process_boot`` hooks have run."""
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout
        while client.zcard(WORKERS_KEY) < count:
            assert time.monotonic() < deadline, f"{count} worker heartbeats not seen in {timeout} s"
            time.sleep(0.1)
    finally:
        client.close()


def test_sigkill_of_the_master_stops_every_process_it_forked(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(metrics_port=free_port(), metrics_host="127.0.0.1")
    pool = start_worker(settings, tmp_path, "--processes", str(PROCESSES), "--threads", "1", name="pool")
    try:
        wait_for_beats(settings.redis_url, PROCESSES, timeout=60)
        wait_for_port(settings.metrics_port, timeout=60)  # the exporter (a fork process) is up
        children = wait_for_descendants(
            pool.pid, lambda found: len(found) >= PROCESSES + 1, 30, "worker processes and the exporter"
        )

        os.kill(pool.pid, signal.SIGKILL)  # the master alone
        assert pool.proc is not None and pool.proc.wait(timeout=30) == -signal.SIGKILL

        left = wait_all_gone(children, timeout=60)  # idle processes stop in ~2 s; generous for load
        assert left == [], f"orphans still running after their master died: {left}\n{pool.output()[-3000:]}"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(pool.pid, signal.SIGKILL)  # the whole group, whatever the outcome
        if pool.alive() and pool.proc is not None:
            pool.proc.wait(timeout=10)
