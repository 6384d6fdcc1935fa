"""When Dramatiq gives up on a message, the image it owned becomes ``failed``.

Runs after the Retries middleware in the same hook, so ``message.failed`` tells whether
the message will be retried: Dramatiq runs ``after_*`` hooks in reverse list order, so this
middleware must come *before* Retries in the broker's list (see :mod:`worker.app`).
Covers retries exhausted, time limit exceeded and messages skipped by other middleware
(e.g. AgeLimit): no image stays ``processing``. *How* an image is failed is handed in at
assembly (``fail_image``): this middleware only decides when, and with which error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from dramatiq.middleware import Middleware

from jobs.contract.ids import is_image_id
from jobs.contract.payloads import PAYLOADS
from jobs.plumbing.dramatiq_compat import retries_so_far
from worker.results import give_up_error

log = structlog.get_logger(__name__)

FailImage = Callable[[str, str, str, str], None]  # (image_id, job_id, code, message), blocking


class FailOnGiveUp(Middleware):
    def __init__(self, fail_image: FailImage) -> None:
        self.fail_image = fail_image

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
        code, text = give_up_error(exception, retries_so_far(message.options))
        try:
            self.fail_image(image_id, job_id, code, text)
        except Exception as exc:  # Redis down too: the reaper will find the orphan
            log.error("job.give_up_unrecorded", image_id=image_id, error=str(exc))
