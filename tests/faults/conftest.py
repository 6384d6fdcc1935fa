"""Fault-injection fixtures: the real API and worker processes, and backing services we can break.

* ``fault_settings`` — settings tuned so faults resolve within seconds: a dead worker's
  messages are requeued after ``heartbeat_timeout_ms=2000``, transient errors retry with
  short backoff, and the reaper re-sends lost jobs (second line of defence);
* ``make_stack(settings, *worker_args)`` — API + one worker pool, stopped (logs shown on
  failure) at teardown; ``stack`` — one with ``fault_settings()``;
* ``persistent_redis`` — a Redis of the test's own with AOF + ``fsync always``, to restart;
* ``restartable_s3`` — a moto S3 server of the test's own, to stop and start on its port.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from jobs.contract.settings import Settings
from tests.support.e2e import Stack, stop_stack
from tests.support.servers import RedisServer, S3Server, start_redis_server, start_s3_server
from tests.support.sources import dripping_source
from tests.support.stack import start_api, start_worker, with_free_http_port

FAST_RECOVERY: dict[str, Any] = {
    "heartbeat_timeout_ms": 2000,  # a SIGKILLed worker's messages come back after ~2 s
    "stuck_after": 30.0,  # reaper: re-send a job not finished 30 s after it was sent
    "reaper_interval": 1.0,
    "max_retries": 12,
    "retry_min_backoff_ms": 200,
    "retry_max_backoff_ms": 2000,  # 12 retries span > 15 s: a 10 s outage is ridden out
    "rate_limit_per_second": 10_000.0,  # the limiter still runs (and needs Redis), never limits
    "rate_limit_burst": 10_000,
    "auth_failure_burst": 10_000,  # the failure throttle runs too; test_access sends many wrong keys
    "metrics_port": 0,
    "worker_heartbeat_interval": 1.0,
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def fault_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        return make_settings(**(FAST_RECOVERY | overrides))

    return build


@pytest.fixture
def make_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    from jobs.client import Client

    stacks: list[Stack] = []

    def build(settings: Settings, *worker_args: str) -> Stack:
        settings = with_free_http_port(settings)
        worker = start_worker(settings, tmp_path, *worker_args)
        api, base_url = start_api(settings, tmp_path)
        stack = Stack(settings, base_url, api, worker, Client(base_url, "k1", timeout=60), tmp_path)
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stop_stack(stack, request)


@pytest.fixture
def stack(make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]) -> Stack:
    return make_stack(fault_settings())


@pytest.fixture
def dripping_url() -> Iterator[str]:
    """A source URL that answers 200 and then drips a byte every 100 ms, forever."""
    with dripping_source() as url:
        yield url


@pytest.fixture
def persistent_redis() -> Iterator[RedisServer]:
    """Redis as production runs it: every write in the append-only file, fsynced, before the reply."""
    server = start_redis_server(persistent=True)
    yield server
    server.stop()


@pytest.fixture
def restartable_s3() -> Iterator[tuple[S3Server, str]]:
    """A moto server of the test's own (so stopping it breaks no other test) and a fresh bucket."""
    server = start_s3_server()
    bucket = f"darkroom-faults-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    yield server, bucket
    server.stop()
