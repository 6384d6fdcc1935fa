"""Dramatiq's Retries, except that a retry which cannot be enqueued (Redis down) is not lost.

Dramatiq re-enqueues a failed message (with its backoff delay) from ``after_process_message``,
then acks the original. When Redis is down at that moment — exactly when jobs fail with
``BrokerUnavailable`` — the enqueue raises, Dramatiq only logs it, and the original is acked
as soon as Redis is back: the job is gone, and its image waits for the reaper
(``STUCK_AFTER``). Here the enqueue is retried until Redis answers, as Dramatiq itself does
for the ack that follows: the worker thread waits, since nothing it could do needs less than
Redis. If the process dies meanwhile, the original is still unacked and comes back. The job's
time limit may expire during a long outage; its interrupt no longer concerns the job (which
has ended) and must not cost it its retry, so it is ignored here.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import redis
import structlog
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import Retries
from dramatiq.threading import Interrupt

log = structlog.get_logger(__name__)
MAX_PAUSE_S = 2.0


class PatientEnqueue:
    """The broker, but ``enqueue`` waits out connection errors instead of raising them."""

    def __init__(self, broker: Any, first_pause_s: float = 0.1) -> None:
        self._broker = broker
        self._first_pause_s = first_pause_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        pause = self._first_pause_s
        while True:
            try:
                return self._broker.enqueue(message, delay=delay)
            except (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError) as exc:
                log.warning("job.retry_enqueue_waiting", message_id=message.message_id, error=str(exc)[:200])
            except Interrupt as exc:  # the time limit of the job that already ended
                log.warning("job.retry_enqueue_interrupted", message_id=message.message_id, error=repr(exc))
            with contextlib.suppress(Interrupt):
                time.sleep(pause)
            pause = min(MAX_PAUSE_S, pause * 2)


class DurableRetries(Retries):
    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        super().after_process_message(  # type: ignore[no-untyped-call]
            PatientEnqueue(broker), message, result=result, exception=exception
        )
