"""A worker SIGKILLed twice in the middle of 200 uploads loses nothing and leaves nothing behind.

Each kill takes down the whole pool (master and worker process) with jobs in flight and
prefetched; a new pool is started at once. The dead pool's unacked messages are requeued by
the scheduled broker maintenance once its heartbeat is ``HEARTBEAT_TIMEOUT_MS`` (2 s) old.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

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
    temp_files,
    wait_settled,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
UPLOADS = 200
KILL_AT = (40, 110)  # ready images when each SIGKILL lands


def enough_ready(redis_url: str, ids: list[str], threshold: int) -> bool:
    return status_counts(redis_url, ids)["ready"] >= threshold


def test_two_sigkills_mid_run_lose_nothing_and_orphan_nothing(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]
) -> None:
    stack = make_stack(fault_settings(), "--processes", "1", "--threads", "2")
    redis_url = stack.settings.redis_url
    started = time.monotonic()
    ids = queue_backlog(stack, UPLOADS)
    assert len(set(ids)) == UPLOADS
    phases = [f"queued {time.monotonic() - started:.1f}"]

    for n, threshold in enumerate(KILL_AT, start=1):
        wait_until(partial(enough_ready, redis_url, ids, threshold), f"{threshold} ready", 60)
        claimed = claimed_messages(redis_url)
        stack.worker.kill()
        assert not stack.worker.alive()
        assert claimed > 0, "the kill must land mid-run, with messages fetched and not acked"
        restart_worker(stack, f"worker-after-kill{n}")
        phases.append(f"kill {n} {time.monotonic() - started:.1f}")

    records = wait_settled(redis_url, ids, timeout=90)
    elapsed = time.monotonic() - started
    assert not_ready(records) == {}
    assert account_image_ids(redis_url, "acme") == set(ids), "exactly one image per upload"
    keys = storage_keys(stack.settings)
    assert audit_objects(keys, set(ids)) == []
    assert all(r is not None and r.image.width == 800 + i % 7 for i, r in enumerate(records.values()))
    resent = sum(int(r.extra.get("resends", 0)) for r in records.values() if r is not None)
    print(
        f"200 uploads, 2 SIGKILLs: all ready in {elapsed:.1f} s ({', '.join(phases)}); "
        f"reaper re-sends: {resent}; staging files left by the kills: {temp_files(keys)}"
    )
