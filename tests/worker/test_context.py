"""WorkerContext.imaging: pure imaging calls run off the loop, at most IMAGING_CONCURRENCY at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import structlog

from jobs.contract.settings import Settings
from tests.support.pipeline import with_ctx
from worker.context import WorkerContext


class Probe:
    """A blocking 'imaging' call that records how many run at once and on which threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.threads: set[int] = set()

    def __call__(self, value: int, *, delay: float) -> int:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.get_ident())
        time.sleep(delay)
        with self.lock:
            self.running -= 1
        return value * 2


@pytest.mark.parametrize("slots", [1, 2])
async def test_imaging_runs_off_the_loop_within_its_slots(settings: Settings, slots: int) -> None:
    probe = Probe()

    async def body(ctx: WorkerContext) -> None:
        ticks = 0

        async def ticker() -> None:  # the loop stays free while imaging blocks its threads
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        results = await asyncio.gather(*(ctx.imaging(probe, n, delay=0.05) for n in range(6)))
        tick_task.cancel()
        assert results == [0, 2, 4, 6, 8, 10]
        assert ticks >= 10, ticks
        assert threading.get_ident() not in probe.threads

    await with_ctx(settings.model_copy(update={"imaging_concurrency": slots}), body)
    assert probe.peak == slots  # never more at once, and the slots are used


async def test_a_failing_call_frees_its_slot(settings: Settings) -> None:
    def broken() -> None:
        raise ValueError("bad pixels")

    async def body(ctx: WorkerContext) -> None:
        for _ in range(3):
            with pytest.raises(ValueError, match="bad pixels"):
                await ctx.imaging(broken)
        async with asyncio.timeout(5):  # a leaked slot would block this forever
            assert await ctx.imaging(Probe(), 21, delay=0) == 42

    await with_ctx(settings.model_copy(update={"imaging_concurrency": 1}), body)


async def test_a_call_cancelled_while_queued_never_runs(settings: Settings) -> None:
    ran: list[int] = []
    release = threading.Event()

    def record(value: int) -> int:
        ran.append(value)
        return value

    async def body(ctx: WorkerContext) -> None:
        busy = asyncio.ensure_future(ctx.imaging(release.wait, 5))  # holds the only imaging thread
        queued = asyncio.ensure_future(ctx.imaging(record, 1))
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):  # delivered on the loop's next step
            await queued
        release.set()  # only now: the thread must find the cancelled call, not race it
        assert await busy is True
        assert await ctx.imaging(record, 2) == 2  # the thread takes the next live call

    await with_ctx(settings.model_copy(update={"imaging_concurrency": 1}), body)
    assert ran == [2]


async def test_imaging_keeps_the_callers_log_context(settings: Settings) -> None:
    def bound() -> dict[str, object]:
        return structlog.contextvars.get_contextvars()

    async def body(ctx: WorkerContext) -> None:
        with structlog.contextvars.bound_contextvars(image_id="img_x"):
            assert (await ctx.imaging(bound))["image_id"] == "img_x"

    await with_ctx(settings, body)
