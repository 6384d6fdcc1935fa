"""Periodic jobs: however many worker processes tick, one enqueue per period."""

from __future__ import annotations

import asyncio

from jobs.contract.payloads import ExpireJob
from jobs.contract.settings import Settings
from tests.support.doubles import RecordingQueue
from tests.support.worker_ctx import make_worker_ctx
from worker.context import WorkerContext
from worker.scheduler import Schedule, schedules, tick


async def test_one_enqueue_per_period_across_processes(settings: Settings) -> None:
    queue = RecordingQueue()
    ctx = await make_worker_ctx(settings, queue=queue)

    async def enqueue(ctx: WorkerContext) -> None:
        await ctx.queue.asend(ExpireJob(job_id="x"))

    plan = [Schedule("expire", 0.4, enqueue)]
    first = await asyncio.gather(*(tick(ctx, plan, f"worker-{i}") for i in range(8)))
    again = await tick(ctx, plan, "worker-0")
    await asyncio.sleep(0.5)
    later = await tick(ctx, plan, "worker-3")
    await ctx.close()
    results, sent = [*first, again, later], queue.sent
    assert sum(len(r) for r in results[:8]) == 1  # eight processes, one winner
    assert results[8] == []  # same period: nothing
    assert results[9] == ["expire"]  # next period
    assert len(sent) == 2 and all(isinstance(job, ExpireJob) for job in sent)


def test_periods_come_from_settings(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={"expire_sweep_interval": 7.0, "reaper_interval": 3.0, "heartbeat_timeout_ms": 8000}
    )
    assert [(s.name, s.every_s) for s in schedules(tuned)] == [
        ("expire", 7.0),
        ("reap", 3.0),
        ("maintenance", 2.0),
        ("fsck", 86400.0),
    ]
    off = tuned.model_copy(update={"fsck_interval": 0.0})
    assert "fsck" not in [s.name for s in schedules(off)]
