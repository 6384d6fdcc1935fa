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

It also logs every failed attempt, once and briefly, in place of Dramatiq. Dramatiq's worker
logs each exception a job raises as "Failed to process message <the whole payload> with
unhandled exception" *with* its traceback, and its Retries one more line: ~800 console lines
per attempt of a transient error that is only waiting for Redis or a source to come back.
Here a failed attempt is one line (``job.retry``: error code, attempt, delay; or
``job.gave_up``), and the traceback is logged only for an exception that is not a Darkroom
error — a bug, worth reading — and only the first time a message hits one, not on every
retry (a flag in the message's options, which travel with the retry). Dramatiq's own lines
about it are dropped (:class:`DramatiqFailureLines`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import redis
import structlog
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import Retries
from dramatiq.threading import Interrupt

from jobs.contract.errors import DarkroomError

log = structlog.get_logger(__name__)
MAX_PAUSE_S = 2.0
TRACEBACK_LOGGED = "darkroom_traceback_logged"  # message option: this message's bug was logged
DRAMATIQ_WORKER_LOGGER = (
    "dramatiq.worker.WorkerThread"  # dramatiq.worker: get_logger(__name__, "WorkerThread")
)
# Dramatiq's format string; should a release reword it, tests/worker/test_retry_logging.py fails
DRAMATIQ_FAILURE_LINE = "Failed to process message %s with unhandled exception."


class PatientEnqueue:
    """The broker, but ``enqueue`` waits out connection errors instead of raising them."""

    def __init__(self, broker: Any, first_pause_s: float = 0.1) -> None:
        self._broker = broker
        self._first_pause_s = first_pause_s
        self.delay: int | None = None  # of the retry enqueued through this, if any

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        pause = self._first_pause_s
        while True:
            try:
                enqueued = self._broker.enqueue(message, delay=delay)
                self.delay = delay or 0
                return enqueued
            except (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError) as exc:
                log.warning("job.retry_enqueue_waiting", message_id=message.message_id, error=str(exc)[:200])
            except Interrupt as exc:  # the time limit of the job that already ended
                log.warning("job.retry_enqueue_interrupted", message_id=message.message_id, error=repr(exc))
            with contextlib.suppress(Interrupt):
                time.sleep(pause)
            pause = min(MAX_PAUSE_S, pause * 2)


class DramatiqFailureLines(logging.Filter):
    """Drops the worker thread's "Failed to process message …" record: DurableRetries logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != DRAMATIQ_FAILURE_LINE


def _quiet_dramatiq_logger() -> logging.Logger:
    """For Retries' own lines ("Retrying message …", "Retries exceeded …"): said better below."""
    quiet = logging.getLogger(f"{__name__}.dramatiq")
    quiet.disabled = True
    return quiet


def job_fields(message: Any) -> dict[str, Any]:
    """The job's log context (as :func:`worker.runner.run_job` binds it), from the raw message."""
    payload = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
    fields = {"job": message.actor_name, "queue": message.queue_name, "message_id": message.message_id}
    fields |= {k: payload[k] for k in ("image_id", "account") if isinstance(payload.get(k), str)}
    return fields


def error_fields(exception: BaseException) -> dict[str, Any]:
    if isinstance(exception, DarkroomError):
        return {"error_code": exception.code, "error_message": exception.message}
    return {"error_code": "internal", "error_message": f"{type(exception).__name__}: {str(exception)[:200]}"}


class DurableRetries(Retries):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.logger = _quiet_dramatiq_logger()

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        dramatiq_worker = logging.getLogger(DRAMATIQ_WORKER_LOGGER)
        if not any(isinstance(f, DramatiqFailureLines) for f in dramatiq_worker.filters):
            dramatiq_worker.addFilter(DramatiqFailureLines())

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is None:
            return
        attempt = int(message.options.get("retries", 0)) + 1
        fields = job_fields(message) | error_fields(exception) | {"attempt": attempt}
        if not isinstance(exception, DarkroomError) and not message.options.get(TRACEBACK_LOGGED):
            message.options[TRACEBACK_LOGGED] = True  # before the retry is enqueued with its options
            log.error("job.unexpected_error", exc_info=exception, **fields)
        patient = PatientEnqueue(broker)
        super().after_process_message(  # type: ignore[no-untyped-call]
            patient, message, result=result, exception=exception
        )
        if patient.delay is not None:
            log.warning("job.retry", delay_ms=patient.delay, max_attempts=self.max_retries + 1, **fields)
        elif message.failed:
            log.warning("job.gave_up", **fields)
