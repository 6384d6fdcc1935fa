"""Per-queue, per-minute ``done``/``failed`` counts and durations for the dashboard's charts.

Written to Redis (:mod:`jobs.plumbing.store.trends`) with the broker's own client, one
pipelined round trip per finished job. A retried attempt is not counted (only the last
attempt finishes the job); a message given up on or skipped (e.g. age limit) counts as
``failed``, like a permanent error the runner recorded on the message. Redis trouble here
is logged and swallowed: a chart must never fail a job. Listed before Retries and
FailOnGiveUp, like :class:`~worker.middleware.Metrics`, so ``message.failed`` is settled
when its ``after_*`` hook runs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog
from dramatiq.middleware import Middleware

from jobs.plumbing.store.trends import record_job
from jobs.services.admin.keys import canonical_queue
from worker.middleware.metrics import job_outcome

log = structlog.get_logger(__name__)
COUNTED = {"ok": "done", "failed": "failed", "skipped": "failed"}


class Trends(Middleware):
    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: Any, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.monotonic()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        self._finish(broker, message, exception, skipped=False)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._finish(broker, message, None, skipped=True)

    def _finish(self, broker: Any, message: Any, exception: BaseException | None, *, skipped: bool) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        outcome = COUNTED.get(job_outcome(message, exception, skipped))
        if outcome is None:
            return  # a retry: the job is not finished
        duration = 0.0 if started is None else time.monotonic() - started
        queue = canonical_queue(str(message.queue_name))
        try:
            record_job(broker.client, queue, time.time(), outcome, duration)
        except Exception as exc:  # Redis hiccup: the chart misses a point, the job is unaffected
            log.warning("trends.unrecorded", queue=queue, error=type(exc).__name__)
