"""SIGTERM during a backlog: the pool stops within its grace period and loses nothing.

``darkroom worker --shutdown-timeout 5``: on SIGTERM the pool stops fetching, lets the jobs
in flight finish (or gives up on them after 5 s), puts every message it had fetched but not
finished back on its queue, and exits. Right after the exit no message is left claimed by
the dead pool (so nothing waits for ``HEARTBEAT_TIMEOUT_MS`` to come back); a new pool then
finishes the backlog: every image ``ready``, one per upload, no stray object.

A job still running when the grace period ends is requeued too, before the pool exits, and
the next pool runs it at once (not a heartbeat timeout later).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest

from jobs.contract.settings import Settings
from tests.support.backlog import queue_backlog, restart_worker
from tests.support.e2e import Stack
from tests.support.faults import (
    account_image_ids,
    audit_objects,
    claimed_messages,
    not_ready,
    status_counts,
    storage_keys,
    wait_settled,
    wait_until,
)
from tests.support.sources import DrippingSource

pytestmark = pytest.mark.e2e
BACKLOG = 120
GRACE_S = 5.0


def test_sigterm_during_a_backlog_loses_nothing(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]
) -> None:
    stack = make_stack(fault_settings(), "--shutdown-timeout", str(GRACE_S))
    redis_url = stack.settings.redis_url
    ids = queue_backlog(stack, BACKLOG)
    wait_until(lambda: status_counts(redis_url, ids)["ready"] >= 10, "10 ready", 60)

    assert stack.worker.proc is not None
    stack.worker.proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    wait_until(lambda: not stack.worker.alive(), "the pool to exit", GRACE_S + 10)
    took = time.monotonic() - sent
    left = status_counts(redis_url, ids)["processing"]
    claimed = claimed_messages(redis_url)
    print(f"SIGTERM: pool exited after {took:.1f} s (grace {GRACE_S:.0f} s); {left} left, {claimed} claimed")
    assert stack.worker.proc.returncode == 0, stack.worker.output()[-3000:]
    assert left > 0, "the SIGTERM must land mid-backlog"
    assert claimed == 0, "the stopped pool kept messages it had fetched"

    restart_worker(stack, "worker-after-sigterm")
    records = wait_settled(redis_url, ids, timeout=60)
    assert not_ready(records) == {}
    assert account_image_ids(redis_url, "acme") == set(ids)
    assert audit_objects(storage_keys(stack.settings), set(ids)) == []


def test_a_job_still_running_when_the_grace_period_ends_is_requeued(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings], dripping_url: str
) -> None:
    # a minute-long heartbeat timeout: only an immediate requeue brings the job back in time
    settings = fault_settings(job_time_limit=4.0, heartbeat_timeout_ms=60_000)
    stack = make_stack(settings, "--shutdown-timeout", "1")
    image = stack.client.upload_url(dripping_url)
    wait_until(lambda: DrippingSource.requests == 1, "the job to start fetching", 30)

    assert stack.worker.proc is not None
    stack.worker.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: not stack.worker.alive(), "the pool to exit", 15)
    assert claimed_messages(stack.settings.redis_url) == 0, "the overrunning job stayed claimed"

    restart_worker(stack, "worker-after-sigterm")
    wait_until(lambda: DrippingSource.requests == 2, "the requeued job to run again", 15)
    failed = stack.client.wait(image.id, timeout=30)  # the source never ends: the time limit stops it
    assert failed.error is not None and failed.error.code == "timeout"
