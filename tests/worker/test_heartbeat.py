"""Worker heartbeats: beat while running, leave on shutdown, survive a Redis outage."""

from __future__ import annotations

import asyncio
import os
import random
import socket
from types import SimpleNamespace
from typing import Any

import pytest

from jobs.contract.constants import WORKERS_KEY, Queue, worker_key
from jobs.contract.settings import Settings
from jobs.services.admin.workers import WorkerBeat, heartbeat_ttl_ms, live_workers
from tests.support.servers import free_port
from tests.support.worker_ctx import make_worker_ctx
from worker.heartbeat import describe_worker, run_heartbeat

ME = WorkerBeat("broker-1", "pod-a", 101, 100, (Queue.UPLOAD.value,), 2, "0.1.0", "2024-01-01T00:00:00+00:00")


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.01)


async def test_beats_until_cancelled_then_leaves(settings: Settings) -> None:
    fast = settings.model_copy(update={"worker_heartbeat_interval": 0.02})
    ttl = heartbeat_ttl_ms(fast)

    ctx = await make_worker_ctx(fast)
    redis = ctx.redis
    task = asyncio.create_task(run_heartbeat(ctx, ME))

    async def listed() -> bool:
        return [w.id for w in await live_workers(redis, ttl)] == ["broker-1"]

    await wait_for(listed)
    first = (await live_workers(redis, ttl))[0].last_beat

    async def beat_again() -> bool:
        return (await live_workers(redis, ttl))[0].last_beat > first

    await wait_for(beat_again)  # it keeps beating
    (seen,) = await live_workers(redis, ttl)
    assert (seen.host, seen.pid, seen.pool, seen.queues, seen.threads) == (
        "pod-a",
        101,
        100,
        ME.queues,
        2,
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await redis.exists(worker_key("broker-1")) == 0
    assert await redis.zscore(WORKERS_KEY, "broker-1") is None
    await ctx.close()


async def test_a_cancel_landing_mid_beat_always_stops_the_loop(settings: Settings) -> None:
    """Worker shutdown cancels the loop at any moment, often while a Redis command is in flight.

    With redis-py 8 on Python 3.11 a cancel that lands as a command's write completes is lost
    (``wait_for``, gh-86296): without ``raise_if_cancelled`` the loop ran on and
    ``WorkerContext.close()`` waited forever (the CI hang this test was written for).
    """
    busy = settings.model_copy(update={"worker_heartbeat_interval": 0})

    ctx = await make_worker_ctx(busy)
    stuck = 0
    rng = random.Random(7)
    for _ in range(150):
        task = asyncio.create_task(run_heartbeat(ctx, ME))
        await asyncio.sleep(rng.random() * 0.004)  # somewhere inside a beat
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3.0)
        if not done:
            stuck += 1
            while not task.done():  # do not leave it running into the next round
                task.cancel()
                await asyncio.sleep(0.01)
    await ctx.close()
    assert stuck == 0


async def test_a_redis_outage_does_not_stop_the_loop(settings: Settings) -> None:
    fast = settings.model_copy(update={"worker_heartbeat_interval": 0.01})

    down = await make_worker_ctx(fast.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}))
    task = asyncio.create_task(run_heartbeat(down, ME))
    await asyncio.sleep(0.3)  # several failed beats
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await down.close()


class FakeBroker:
    broker_id = "b-42"

    def get_declared_queues(self) -> set[str]:
        return {Queue.UPLOAD.value, Queue.UPLOAD.value + ".DQ", Queue.PURGE.value}


def test_describe_worker_names_its_queues_host_and_pids() -> None:
    everything = describe_worker(FakeBroker(), SimpleNamespace(consumer_whitelist=None, worker_threads=3))
    assert everything.queues == (Queue.PURGE.value, Queue.UPLOAD.value)  # delay queues are not listed
    assert (everything.id, everything.threads) == ("b-42", 3)
    assert (everything.host, everything.pid, everything.pool) == (
        socket.gethostname(),
        os.getpid(),
        os.getppid(),
    )
    only = describe_worker(
        FakeBroker(), SimpleNamespace(consumer_whitelist={Queue.TRANSFORM.value}, worker_threads=1)
    )
    assert only.queues == (Queue.TRANSFORM.value,)
