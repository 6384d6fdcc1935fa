"""The worker's Dramatiq broker: Redis in namespace ``darkroom`` with Darkroom's middleware.

Order matters, and Dramatiq runs ``before_*`` hooks in list order but ``after_*`` hooks in
*reverse* order (which is why its own default list ends with Retries):

* Lifecycle first: its ``before_worker_boot`` opens the ctx every later middleware uses, and
  its ``after_worker_shutdown`` (closing it) runs after RequeueOnShutdown's;
* Retries last, so its ``after_process_message`` runs first and marks a message it gives up
  on ``failed``; then FailOnGiveUp fails the image of such a message; then Metrics records
  the outcome (``failed`` vs ``retry``, and the image's final status).

Retries are :class:`~worker.middleware.retries.DurableRetries`: a retry outlives a Redis outage.
"""

from __future__ import annotations

from collections.abc import Callable

from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
    TimeLimitExceeded,
)

from jobs.errors import DarkroomError
from jobs.queue import redis_broker
from jobs.settings import Settings
from worker.middleware import (
    DieWithPool,
    DurableRetries,
    FailOnGiveUp,
    Lifecycle,
    MemoryBudget,
    Metrics,
    PromptShutdown,
    RequeueOnShutdown,
)


def should_retry(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Retry transient failures only; a time-limit hit or a permanent error fails at once."""

    def retry_when(retries: int, exception: BaseException) -> bool:
        if isinstance(exception, TimeLimitExceeded):
            return False
        if isinstance(exception, DarkroomError) and not exception.transient:
            return False
        return retries < max_retries

    return retry_when


def build_broker(settings: Settings) -> RedisBroker:
    middleware = [
        Lifecycle(settings),
        DieWithPool(),  # worker processes die with the pool's master (Dramatiq #788)
        MemoryBudget(settings.worker_memory_mb * 1024 * 1024),  # its after_* hooks run last
        RequeueOnShutdown(),
        PromptShutdown(),
        CurrentMessage(),
        AgeLimit(),
        TimeLimit(time_limit=int(settings.job_time_limit * 1000), interval=100),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Metrics(settings),
        FailOnGiveUp(),
        DurableRetries(
            max_retries=settings.max_retries,
            min_backoff=settings.retry_min_backoff_ms,
            max_backoff=settings.retry_max_backoff_ms,
            retry_when=should_retry(settings.max_retries),
        ),
    ]
    return redis_broker(settings, middleware=middleware)
