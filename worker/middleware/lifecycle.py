"""Start Dramatiq's event loop, then open the worker ctx on it; close in reverse order."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from dramatiq.middleware import AsyncIO

from jobs.dramatiq_compat import broker_id, get_event_loop_thread
from jobs.ops.workers import WorkerBeat
from jobs.settings import Settings
from worker import context
from worker.context import WorkerContext
from worker.heartbeat import describe_worker, run_heartbeat
from worker.scheduler import run_scheduler

log = structlog.get_logger(__name__)


class Lifecycle(AsyncIO):
    """Dramatiq's AsyncIO middleware plus Darkroom's ctx (redis, storage, http) on that loop."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        super().before_worker_boot(broker, worker)  # type: ignore[no-untyped-call]
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None
        ctx = loop_thread.run_coroutine(WorkerContext.open(self.settings, broker))
        context.set_current(ctx)
        me = describe_worker(broker, worker)
        loop_thread.run_coroutine(self._start_background(ctx, broker_id(broker), me))
        log.info("worker.ctx_open", storage=self.settings.storage_scheme)

    @staticmethod
    async def _start_background(ctx: WorkerContext, owner: str, me: WorkerBeat) -> None:
        ctx.tasks.append(asyncio.create_task(run_scheduler(ctx, owner), name="darkroom-scheduler"))
        ctx.tasks.append(asyncio.create_task(run_heartbeat(ctx, me), name="darkroom-heartbeat"))

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        ctx = context._current
        if loop_thread is not None and ctx is not None:
            try:
                loop_thread.run_coroutine(ctx.close())
            except Exception as exc:  # closing must never block shutdown
                log.warning("worker.ctx_close_failed", error=str(exc))
        context.set_current(None)
        super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]
