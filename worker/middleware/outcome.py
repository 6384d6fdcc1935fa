"""When Dramatiq gives up on a message, the image it owned becomes ``failed``.

Runs after the Retries middleware in the same hook, so ``message.failed`` tells whether
the message will be retried: Dramatiq runs ``after_*`` hooks in reverse list order, so this
middleware must come *before* Retries in the broker's list (see :mod:`worker.broker`).
Covers retries exhausted, time limit exceeded and messages skipped by other middleware
(e.g. AgeLimit): no image stays ``processing``.
"""

from __future__ import annotations

from typing import Any

import structlog
from dramatiq.middleware import Middleware, TimeLimitExceeded

from jobs.dramatiq_compat import retries_so_far
from jobs.errors import DarkroomError, JobTimeout
from jobs.ids import is_image_id
from jobs.payloads import PAYLOADS
from worker import context
from worker.pipeline.outcome import mark_failed
from worker.runner import run_on_loop

log = structlog.get_logger(__name__)


def describe(exception: BaseException | None, attempts: int) -> tuple[str, str]:
    if isinstance(exception, TimeLimitExceeded):
        return JobTimeout.code, JobTimeout.default_message
    if isinstance(exception, DarkroomError):
        return exception.code, f"{exception.message} (gave up after {attempts} attempts)"
    if exception is None:
        return "internal", "The job was dropped before it could run."
    return "internal", f"Internal error: {type(exception).__name__} (gave up after {attempts} attempts)"


class FailOnGiveUp(Middleware):
    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is not None and message.failed:
            self._fail(message, exception)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self._fail(message, None)

    def _fail(self, message: Any, exception: BaseException | None) -> None:
        payload = message.args[0] if message.args else None
        if not isinstance(payload, dict):
            return
        image_id, job_id = payload.get("image_id"), payload.get("job_id")
        kind = PAYLOADS.get(str(payload.get("kind")))
        if kind is None or not getattr(kind, "owns_image", False):
            return  # only upload/transform jobs own an image's processing state
        if not (isinstance(image_id, str) and is_image_id(image_id) and isinstance(job_id, str)):
            return
        # Retries has already counted this failed attempt in the same hook
        code, text = describe(exception, retries_so_far(message.options))
        try:
            run_on_loop(mark_failed(context.current(), image_id, job_id, code, text))
        except Exception as exc:  # Redis down too: the reaper will find the orphan
            log.error("job.give_up_unrecorded", image_id=image_id, error=str(exc))
