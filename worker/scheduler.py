"""Periodic work run from the worker pools: expiry sweep, reaper, broker maintenance, fsck.

Every worker process runs this loop on Dramatiq's event loop; a Redis lock with the
period as TTL (``SET NX PX``) lets exactly one of them run each schedule per period,
however many pools are up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from jobs.contract.constants import schedule_lock_key
from jobs.contract.ids import new_token
from jobs.contract.payloads import ExpireJob
from jobs.contract.settings import Settings
from jobs.plumbing.store.errors import redis_errors
from jobs.runtime.cancellation import raise_if_cancelled
from jobs.services.admin.fsck import ORIGINALS_ONLY, Fsck, save_summary
from worker.context import WorkerContext
from worker.maintenance import requeue_dead_workers
from worker.reaper import reap

log = structlog.get_logger(__name__)
Action = Callable[[WorkerContext], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    every_s: float
    run: Action


async def enqueue_expiry(ctx: WorkerContext) -> None:
    await ctx.queue.asend(ExpireJob(job_id=new_token()))


async def broker_maintenance(ctx: WorkerContext) -> None:
    broker = ctx.queue.broker
    await asyncio.to_thread(requeue_dead_workers, broker)  # type: ignore[arg-type]


async def check_storage(ctx: WorkerContext) -> None:
    """``darkroom fsck`` without ``--repair``, except that staged originals no record owns are
    removed (an upload refused, or its API killed, between staging and the record). The
    counts go to Redis, where every ``/metrics`` scrape reads them."""
    started = time.time()
    fsck = Fsck(ctx.store, ctx.storage, grace_s=ctx.settings.fsck_grace, repair=ORIGINALS_ONLY)
    report = await fsck.run()
    await save_summary(ctx.redis, report, at=started)


async def start_storage_check(ctx: WorkerContext) -> None:
    """A walk of the whole store takes long: it runs beside the loop, not in it (the reaper
    must not wait), and stops with the process (``ctx.tasks``)."""

    async def guarded() -> None:
        try:
            await check_storage(ctx)
        except Exception as exc:  # the next period tries again; the metrics keep the last run
            log.warning("fsck.failed", error=str(exc)[:200])

    ctx.tasks.append(asyncio.create_task(guarded(), name="darkroom-fsck"))


def schedules(settings: Settings) -> list[Schedule]:
    plan = [
        Schedule("expire", settings.expire_sweep_interval, enqueue_expiry),
        Schedule("reap", settings.reaper_interval, reap),
        Schedule("maintenance", max(1.0, settings.heartbeat_timeout_ms / 4000), broker_maintenance),
    ]
    if settings.fsck_interval > 0:
        plan.append(Schedule("fsck", settings.fsck_interval, start_storage_check))
    return plan


async def tick(ctx: WorkerContext, plan: list[Schedule], owner: str) -> list[str]:
    """Run every schedule whose period lock this process wins; returns their names."""
    fired = []
    for item in plan:
        with redis_errors():
            won = await ctx.redis.set(
                schedule_lock_key(item.name), owner, nx=True, px=int(item.every_s * 1000)
            )
        if won:
            await item.run(ctx)
            fired.append(item.name)
    return fired


async def run_scheduler(ctx: WorkerContext, owner: str) -> None:
    plan = schedules(ctx.settings)
    pause = max(0.1, min(s.every_s for s in plan) / 4)
    while True:
        try:
            for name in await tick(ctx, plan, owner):
                log.debug("schedule.ran", schedule=name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis down: try again next tick
            log.warning("schedule.failed", error=str(exc))
        raise_if_cancelled()
        await asyncio.sleep(pause)
