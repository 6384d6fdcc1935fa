"""Long-running loops stop when cancelled, even when a library swallowed the cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from redis.asyncio import Redis

from jobs.contract.constants import EVENTS_KEY
from jobs.plumbing.events import EventHub
from jobs.runtime.cancellation import raise_if_cancelled


async def test_a_swallowed_cancel_is_raised_again() -> None:
    async def swallowing_loop(rounds: list[int]) -> None:
        while True:
            with contextlib.suppress(asyncio.CancelledError):  # what a buggy library does
                await asyncio.sleep(10)
            rounds.append(1)
            raise_if_cancelled()

    async def scenario() -> list[int]:
        rounds: list[int] = []
        task = asyncio.create_task(swallowing_loop(rounds))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return rounds

    assert await scenario() == [1]


async def test_a_task_that_was_not_cancelled_goes_on() -> None:
    async def once() -> str:
        raise_if_cancelled()
        return "went on"

    assert await once() == "went on"


async def test_the_event_hub_stops_whenever_it_is_stopped(redis_url: str) -> None:
    """``stop()`` lands at random points of the XREAD loop, while events keep arriving."""

    redis = Redis.from_url(redis_url)
    writer = Redis.from_url(redis_url)
    rng = random.Random(11)
    stuck = 0

    done_producing = asyncio.Event()

    async def produce() -> None:
        while not done_producing.is_set():
            await writer.xadd(EVENTS_KEY, {"id": "image_x"}, maxlen=100)
            await asyncio.sleep(0)

    producer = asyncio.create_task(produce())
    for _ in range(60):
        hub = EventHub(redis)
        await hub.start()
        await asyncio.sleep(rng.random() * 0.004)
        stopping = asyncio.create_task(hub.stop())
        done, _ = await asyncio.wait([stopping], timeout=3.0)
        if not done:
            stuck += 1
            while not stopping.done():  # cancel it until it gives up, for the next round
                stopping.cancel()
                await asyncio.sleep(0.01)
    done_producing.set()
    await producer
    await redis.aclose()
    await writer.aclose()
    assert stuck == 0
