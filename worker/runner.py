"""Turn a thin actor into a safe job: parse, log context, run on the loop, classify errors.

* bad payload → logged and dropped (nothing to retry; the image, if any, is failed);
* permanent :class:`DarkroomError` → the image becomes ``failed`` with its code, message acked;
  the result (``"failed"``, else ``"ok"``) is left on the message
  (:func:`worker.results.record_result`), so the metrics middleware counts it without asking
  Redis;
* errors :func:`worker.results.retryable` calls transient, and unexpected exceptions,
  propagate, so Dramatiq's Retries middleware retries them with backoff;
  :class:`worker.middleware.outcome.FailOnGiveUp` fails the image
  when retries run out or the time limit hits; they are logged there, not here
  (:class:`worker.middleware.retries.DurableRetries`: one line per attempt, a traceback
  only for an unexpected exception);
* a job that fails *because the pool is closing its clients under it* (past the shutdown
  grace period, its message already requeued) is abandoned: its image is not failed and no
  retry is sent, so the requeued copy does the work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import CurrentMessage

from jobs.contract.errors import DarkroomError, InvalidRequest
from jobs.contract.ids import is_image_id
from jobs.contract.payloads import ImageJob, JobPayload, parse_payload
from worker import context
from worker.context import WorkerContext
from worker.pipeline.outcome import fail_with
from worker.results import JobResult, record_result, retryable

log = structlog.get_logger(__name__)

P = TypeVar("P", bound=JobPayload)
Handler = Callable[[WorkerContext, P], Awaitable[None]]
T = TypeVar("T")


def run_on_loop(coro: Awaitable[T]) -> T:
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        raise RuntimeError("Dramatiq's event loop is not running (Lifecycle middleware missing?)")
    return loop_thread.run_coroutine(coro)


def current_attempt() -> int:
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) + 1 if message is not None else 1


async def run_job(raw: Any, handler: Handler[P], attempt: int) -> JobResult:
    ctx = context.current()
    try:
        job = parse_payload(raw)
    except InvalidRequest as exc:
        await _reject_payload(ctx, raw, exc)
        return "failed"
    with structlog.contextvars.bound_contextvars(**job.log_context, attempt=attempt):
        log.info("job.start")
        try:
            await handler(ctx, job)  # type: ignore[arg-type]
        except Exception as exc:
            if ctx.closing:  # our clients were closed under it: the requeued copy does the work
                log.warning("job.abandoned_at_shutdown", error=str(exc)[:200])
                return "abandoned"
            if not isinstance(exc, DarkroomError) or retryable(exc):
                raise  # DurableRetries logs it, once: one line, or the traceback of a bug
            log.info("job.permanent_error", error_code=exc.code, error_message=exc.message)
            if isinstance(job, ImageJob) and job.owns_image:
                await fail_with(ctx, job.image_id, job.job_id, exc)
            return "failed"
        log.info("job.done")
        return "ok"


async def _reject_payload(ctx: WorkerContext, raw: Any, exc: InvalidRequest) -> None:
    log.error("job.invalid_payload", error_message=exc.message, field=exc.field)
    if not isinstance(raw, dict):
        return
    image_id, job_id = raw.get("image_id"), raw.get("job_id")
    if isinstance(image_id, str) and is_image_id(image_id) and isinstance(job_id, str):
        await fail_with(ctx, image_id, job_id, exc)


def job_actor(handler: Handler[P]) -> Callable[[dict[str, Any]], None]:
    """Wrap an async pipeline function as a (sync) Dramatiq actor body."""

    def actor(payload: dict[str, Any]) -> None:
        result = run_on_loop(run_job(payload, handler, current_attempt()))
        message = CurrentMessage.get_current_message()
        if message is not None:
            record_result(message, result)

    actor.__name__ = handler.__name__
    actor.__doc__ = handler.__doc__
    return actor
