"""The worker, assembled in one place: ``dramatiq worker.app:setup`` runs :func:`setup` in
every worker process (Settings from the environment once, structlog, the broker, the actors).

Darkroom's middleware know nothing about the app: each is handed what it needs here.

* :func:`open_worker` is what :class:`~worker.middleware.Lifecycle` starts on Dramatiq's event
  loop: the ctx, with its storage wrapped by the byte meter *before* the image store is built
  on it (so record sidecars are counted like every other write), then the scheduler and the
  heartbeat. It returns what stops them.
* :func:`fail_image` is how :class:`~worker.middleware.FailOnGiveUp` fails an image.
* :mod:`worker.results` is the retry policy (``Retries``) and the job results the runner
  leaves for the metrics.

Order matters, and Dramatiq runs ``before_*`` hooks in list order but ``after_*`` hooks in
*reverse* order (which is why its own default list ends with Retries):

* Lifecycle first: its ``before_worker_boot`` opens the ctx everything later uses, and its
  ``after_worker_shutdown`` (closing it) runs after RequeueOnShutdown's;
* Retries last, so its ``after_process_message`` runs first and marks a message it gives up
  on ``failed``; then FailOnGiveUp fails the image of such a message; then Metrics records
  the outcome (``failed`` vs ``retry``, and the image's final status).

Retries are :class:`~worker.middleware.retries.DurableRetries`: a retry outlives a Redis outage.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)

from jobs.contract.settings import MiB, Settings, load_settings
from jobs.plumbing.dramatiq_compat import broker_id
from jobs.plumbing.queue import redis_broker
from jobs.runtime.gc_tuning import tune_gc
from jobs.runtime.logs import configure_logging
from jobs.runtime.malloc import retain_freed_memory
from worker import context
from worker.actors import declare_actors
from worker.context import WorkerContext
from worker.heartbeat import describe_worker, run_heartbeat
from worker.metered_storage import Count, MeteredStorage
from worker.middleware import (
    DieWithPool,
    DurableRetries,
    FailOnGiveUp,
    Lifecycle,
    MemoryBudget,
    Metrics,
    PromptShutdown,
    RequeueOnShutdown,
    Trends,
)
from worker.middleware.lifecycle import Stop
from worker.pipeline.outcome import mark_failed
from worker.results import retry_options
from worker.runner import run_on_loop
from worker.scheduler import run_scheduler

BROKER_REF = "worker.app:setup"
log = structlog.get_logger(__name__)


def setup() -> RedisBroker:
    settings = load_settings()
    configure_logging(settings, process="worker")
    retain_freed_memory(settings.malloc_retain_mb * MiB)  # before the worker threads start
    broker = build_broker(settings)
    declare_actors(broker, settings)
    dramatiq.set_broker(broker)
    tune_gc()
    return broker


def build_broker(settings: Settings) -> RedisBroker:
    metrics = Metrics(settings)
    middleware = [
        Lifecycle(start=functools.partial(open_worker, settings, metrics.count_bytes)),
        DieWithPool(),  # worker processes die with the pool's master (Dramatiq #788)
        MemoryBudget(settings.worker_memory_mb * MiB),  # its after_* hooks run last
        RequeueOnShutdown(),
        PromptShutdown(),
        CurrentMessage(),
        AgeLimit(),
        TimeLimit(time_limit=int(settings.job_time_limit * 1000), interval=100),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        metrics,
        Trends(),  # per-minute counts and durations for the dashboard's charts
        FailOnGiveUp(fail_image=fail_image),
        DurableRetries(**retry_options(settings)),
    ]
    return redis_broker(settings, middleware=middleware)


async def open_worker(settings: Settings, count_bytes: Count, broker: Any, worker: Any) -> Stop:
    """Open this process's ctx on the running loop, start its background tasks; return the stop."""
    ctx = await WorkerContext.open(
        settings, broker, wrap_storage=lambda storage: MeteredStorage(storage, count_bytes)
    )
    context.set_current(ctx)
    owner, me = broker_id(broker), describe_worker(broker, worker)
    ctx.tasks.append(asyncio.create_task(run_scheduler(ctx, owner), name="darkroom-scheduler"))
    ctx.tasks.append(asyncio.create_task(run_heartbeat(ctx, me), name="darkroom-heartbeat"))
    log.info("worker.ctx_open", storage=settings.storage_scheme)

    async def stop() -> None:
        try:
            await ctx.close()
        finally:
            context.set_current(None)

    return stop


def fail_image(image_id: str, job_id: str, code: str, message: str) -> None:
    """Fail the image a given-up job owned (from a worker thread, on the loop; blocking)."""
    run_on_loop(mark_failed(context.current(), image_id, job_id, code, message))
