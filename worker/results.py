"""What a job's run came to, and whether a failure is worth another attempt.

Shared by the runner (which decides), the middleware (which count and record it) and the
pipelines (which declare their own retry options): none of them imports another for it.

* :data:`JobResult`: ``ok``; ``failed`` (a permanent error the runner recorded on the
  image, the message is acked); ``abandoned`` (cut off by the pool's own shutdown, the
  requeued copy does the work). A job that *raised* has no result: Dramatiq retries it or
  gives up on it.
* :func:`retryable`: transient Darkroom errors and unexpected exceptions are retried;
  permanent errors and a time-limit hit are not.
* The runner leaves the result on the message being processed (:func:`record_result`): the
  actor's return value would make Dramatiq warn on every job without a Results backend, and
  the message proxy lives exactly as long as the delivery (a retry is a new one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from dramatiq.middleware import TimeLimitExceeded

from jobs.contract.errors import DarkroomError, JobTimeout
from jobs.contract.settings import Settings

JobResult = Literal["ok", "failed", "abandoned"]
RESULT_ATTRIBUTE = "darkroom_result"


def record_result(message: Any, result: JobResult) -> None:
    """Leave ``result`` on the message being processed, for the ``after_process_message`` hooks."""
    setattr(message, RESULT_ATTRIBUTE, result)


def result_of(message: Any) -> JobResult | None:
    """What the runner recorded on a processed message (None: it raised, or never ran)."""
    return getattr(message, RESULT_ATTRIBUTE, None)


def retryable(exception: BaseException) -> bool:
    """Transient failures and bugs get another attempt; permanent errors and time-outs do not."""
    if isinstance(exception, TimeLimitExceeded):
        return False
    return not isinstance(exception, DarkroomError) or exception.transient


def should_retry(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Dramatiq's ``retry_when``: :func:`retryable`, at most ``max_retries`` times."""

    def retry_when(retries: int, exception: BaseException) -> bool:
        return retryable(exception) and retries < max_retries

    return retry_when


def retry_options(settings: Settings) -> dict[str, Any]:
    """The broker-wide retry policy (``Retries`` options): attempts and backoff from settings."""
    return {
        "max_retries": settings.max_retries,
        "min_backoff": settings.retry_min_backoff_ms,
        "max_backoff": settings.retry_max_backoff_ms,
        "retry_when": should_retry(settings.max_retries),
    }


def give_up_error(exception: BaseException | None, attempts: int) -> tuple[str, str]:
    """``(code, message)`` an image is failed with when Dramatiq gives up on its job."""
    if isinstance(exception, TimeLimitExceeded):
        return JobTimeout.code, JobTimeout.default_message
    if isinstance(exception, DarkroomError):
        return exception.code, f"{exception.message} (gave up after {attempts} attempts)"
    if exception is None:
        return "internal", "The job was dropped before it could run."
    return "internal", f"Internal error: {type(exception).__name__} (gave up after {attempts} attempts)"
