"""A job that runs past ``JOB_TIME_LIMIT`` ends ``failed`` with ``timeout``, at once and only once.

The source URL answers 200 and then drips one byte every 100 ms, forever: every read
arrives well within ``FETCH_TIMEOUT``, so only the job's time limit can stop it. Dramatiq's
TimeLimit interrupts the job, no retry follows (a job that ran out of time would again), and
the worker goes on serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg
from tests.support.sources import DrippingSource

pytestmark = pytest.mark.e2e
TIME_LIMIT_S = 2.0


def test_a_job_over_the_time_limit_fails_with_timeout(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings], dripping_url: str
) -> None:
    stack = make_stack(fault_settings(job_time_limit=TIME_LIMIT_S, fetch_timeout=15.0))
    started = time.monotonic()
    image = stack.client.upload_url(dripping_url, name="slow")
    failed = stack.client.wait(image.id, timeout=30)
    elapsed = time.monotonic() - started

    assert failed.status == Status.FAILED, failed
    assert failed.error is not None and failed.error.code == "timeout", failed.error
    assert "time" in failed.error.message.lower()
    assert TIME_LIMIT_S <= elapsed < TIME_LIMIT_S + 10, elapsed
    assert DrippingSource.requests == 1, "a job that ran out of time is not retried"
    print(f"time limit {TIME_LIMIT_S} s: failed with timeout after {elapsed:.1f} s")

    good = stack.client.upload(oriented_jpeg(64, 48, 1))
    assert stack.client.wait(good.id, timeout=30).status == Status.READY
    assert stack.worker.alive()
