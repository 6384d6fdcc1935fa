"""On shutdown, jobs still running when the grace period ends go back on their queue at once.

``darkroom worker --shutdown-timeout`` gives in-flight jobs that long to finish. Dramatiq puts
back the messages it fetched but never started; a job still *running* when the time is up
stays claimed by the dying process, and only comes back once another pool's maintenance
declares it dead (``HEARTBEAT_TIMEOUT_MS`` later — a minute by default). Here every message
still in flight after the grace period is requeued before the process exits. Should the job
finish after all, it is simply run again, which is a no-op (jobs are owned by ``job_id``).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import structlog
from dramatiq.middleware import Middleware

from jobs.plumbing.dramatiq_compat import redis_message_id, requeue, shorten_worker_polls

log = structlog.get_logger(__name__)


class RequeueOnShutdown(Middleware):
    """Must come after Lifecycle in the list: its ``after_worker_shutdown`` runs first (reverse order)."""

    def __init__(self) -> None:
        self._running: dict[str, Any] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._running[message.message_id] = message

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        with self._lock:
            self._running.pop(message.message_id, None)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self.after_process_message(broker, message)

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        with self._lock:
            overran = list(self._running.values())
            self._running.clear()
        by_queue: dict[str, list[str]] = defaultdict(list)
        for message in overran:
            redis_id = redis_message_id(message)
            if redis_id is not None:
                by_queue[message.queue_name].append(redis_id)
        for queue_name, ids in by_queue.items():
            try:
                requeue(broker, queue_name, ids)
                log.warning("worker.requeued_at_shutdown", queue=queue_name, messages=len(ids))
            except Exception as exc:  # Redis down: maintenance requeues them after the heartbeat timeout
                log.error("worker.requeue_at_shutdown_failed", queue=queue_name, error=str(exc)[:200])


WORKER_POLL_S = 0.1


class PromptShutdown(Middleware):
    """A pool that has nothing left to do exits at once instead of after Dramatiq's 1 s polls.

    Dramatiq's worker threads poll their in-memory queue every ``worker_timeout`` (1 s), and
    the consumers block on Redis just as long, so each stop took seconds with nothing to wait
    for. Worker threads poll every 100 ms here (an in-process queue: no Redis traffic), and at
    shutdown the broker wakes its own idle consumers (:mod:`jobs.plumbing.wakeup`). In-flight jobs still
    get the whole grace period.
    """

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        shorten_worker_polls(worker, WORKER_POLL_S)

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        wake = getattr(broker, "wake_for_shutdown", None)
        if wake is not None:
            wake()
