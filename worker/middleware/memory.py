"""After every job, a worker process is back under its memory budget (``WORKER_MEMORY_MB``).

A job may hold up to ``IMAGING_MEMORY_MB`` of pixels while it runs; once it is over, failed
or not, what it freed must not stay resident (see :mod:`jobs.runtime.malloc` for why it would): a
process found above its budget returns its free heap to the kernel. Still above it after
that means live objects, not freed ones: logged as a warning, with the numbers.
"""

from __future__ import annotations

from typing import Any

import structlog
from dramatiq.middleware import Middleware

from jobs.runtime.malloc import keep_under

log = structlog.get_logger(__name__)
MiB = 1024 * 1024


class MemoryBudget(Middleware):
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        self.settle()

    def after_skip_message(self, broker: Any, message: Any) -> None:
        self.settle()

    def settle(self) -> None:
        release = keep_under(self.budget_bytes)
        if release is None:
            return
        fields = {
            "rss_before_mb": round(release.before / MiB),
            "rss_after_mb": round(release.after / MiB),
            "budget_mb": round(self.budget_bytes / MiB),
        }
        if release.after > self.budget_bytes:
            log.warning("worker.memory_over_budget", **fields)
        else:
            log.info("worker.memory_released", **fields)
