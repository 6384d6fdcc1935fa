"""Start Dramatiq's event loop, then start the worker's services on it; stop them in reverse order.

*What* starts is handed in at assembly (:mod:`worker.app`): ``start(broker, worker)`` runs on
the loop once per worker process and returns the coroutine function that stops it all again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from dramatiq.middleware import AsyncIO

from jobs.plumbing.dramatiq_compat import get_event_loop_thread

log = structlog.get_logger(__name__)

Stop = Callable[[], Awaitable[None]]
Start = Callable[[Any, Any], Awaitable[Stop]]  # (broker, worker) → stop


class Lifecycle(AsyncIO):
    """Dramatiq's AsyncIO middleware plus the app's ``start``/stop on that loop."""

    def __init__(self, start: Start) -> None:
        super().__init__()
        self.start = start
        self._stop: Stop | None = None

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        super().before_worker_boot(broker, worker)  # type: ignore[no-untyped-call]
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None
        self._stop = loop_thread.run_coroutine(self.start(broker, worker))

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        stop, self._stop = self._stop, None
        if loop_thread is not None and stop is not None:
            try:
                loop_thread.run_coroutine(stop())
            except Exception as exc:  # closing must never block shutdown
                log.warning("worker.ctx_close_failed", error=str(exc))
        super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]
