"""Dramatiq's Prometheus middleware plus Darkroom's job metrics, exported once per pool.

* ``dramatiq_*`` — Dramatiq's own middleware, unchanged (messages, errors, retries,
  dead letters, in progress, durations per queue and actor);
* ``darkroom_job_duration_seconds{kind,queue,outcome}``, ``darkroom_jobs_in_progress``,
  ``darkroom_bytes_in_total`` / ``darkroom_bytes_out_total{kind}`` and
  ``darkroom_webhook_deliveries_total{event,outcome}``.

Both write to the pool's ``PROMETHEUS_MULTIPROC_DIR`` (:func:`worker.exporter.metrics_dir`)
and are served by :func:`worker.exporter.serve_metrics`, which the Dramatiq CLI forks once
per pool because this middleware lists it in ``forks``.

Outcome of a job: ``retry`` (raised, will be retried), ``failed`` (raised and given up, or
a permanent error the runner handled without raising — the image ended ``failed``, e.g.
undecodable input, or a webhook URL was refused), ``skipped`` (dropped by a middleware,
e.g. age limit), ``ok`` otherwise. No Redis read per job: the runner leaves the outcome on
the message (:func:`worker.results.result_of`). Its ``after_*`` hooks must run after those of
``Retries`` and ``FailOnGiveUp``: Dramatiq runs them in reverse list order, so it is
listed before them.

Bytes are counted by the storage wrapper the app builds around the worker's storage at
assembly (:class:`worker.metered_storage.MeteredStorage`), with :meth:`Metrics.count_bytes`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import structlog
from dramatiq.middleware.prometheus import Prometheus

from jobs.contract.settings import Settings
from jobs.plumbing.dramatiq_compat import set_prometheus_db_path
from jobs.services.admin.keys import canonical_queue
from worker.exporter import metrics_dir, serve_metrics
from worker.results import result_of

log = structlog.get_logger(__name__)


class Metrics(Prometheus):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.metrics: ModuleType | None = None
        self.booted = False  # Dramatiq's half has its metrics only after process boot
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def forks(self) -> list[Callable[[], int]]:
        return [serve_metrics] if self.settings.metrics_port else []

    # --- process and worker lifecycle -----------------------------------------------------------

    def after_process_boot(self, broker: Any) -> None:
        directory = metrics_dir(self.settings)
        set_prometheus_db_path(directory)
        super().after_process_boot(broker)  # type: ignore[no-untyped-call]
        self.booted = True
        from jobs.services.admin import (
            metrics,  # only now: prometheus_client picks multiprocess mode on import
        )

        self.metrics = metrics
        if not metrics.multiprocess_active():
            log.warning("metrics.single_process", reason="prometheus_client was imported before boot")

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self.booted:
            super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]

    def count_bytes(self, direction: str, kind: str, size: int) -> None:
        """``darkroom_bytes_in/out_total{kind}`` (a no-op until process boot loaded the metrics)."""
        if self.metrics is not None:
            counter = self.metrics.BYTES_IN if direction == "in" else self.metrics.BYTES_OUT
            counter.labels(kind).inc(size)

    # --- messages ---------------------------------------------------------------------------------

    # Without process boot (a broker used outside the Dramatiq CLI) Dramatiq's hooks would fail.

    def after_nack(self, broker: Any, message: Any) -> None:
        if self.booted:
            super().after_nack(broker, message)  # type: ignore[no-untyped-call]

    def after_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        if self.booted:
            super().after_enqueue(broker, message, delay)  # type: ignore[no-untyped-call]

    def before_delay_message(self, broker: Any, message: Any) -> None:
        if self.booted:
            super().before_delay_message(broker, message)  # type: ignore[no-untyped-call]

    def before_process_message(self, broker: Any, message: Any) -> None:
        if self.booted:
            super().before_process_message(broker, message)  # type: ignore[no-untyped-call]
        if self.metrics is None:
            return
        with self._lock:
            self._started[message.message_id] = time.perf_counter()
        self.metrics.JOBS_IN_PROGRESS.labels(*self._labels(message)).inc()

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if self.booted:
            super().after_process_message(broker, message, result=result, exception=exception)  # type: ignore[no-untyped-call]
        self._finish(message, exception, skipped=False)

    def after_skip_message(  # type: ignore[override]  # Dramatiq aliases it to after_process_message
        self, broker: Any, message: Any
    ) -> None:
        if self.booted:
            super().after_process_message(broker, message)  # type: ignore[no-untyped-call]
        self._finish(message, None, skipped=True)

    @staticmethod
    def _labels(message: Any) -> tuple[str, str]:
        return str(message.actor_name), canonical_queue(str(message.queue_name))

    def _finish(self, message: Any, exception: BaseException | None, *, skipped: bool) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if self.metrics is None or started is None:
            return
        kind, queue = self._labels(message)
        self.metrics.JOBS_IN_PROGRESS.labels(kind, queue).dec()
        outcome = job_outcome(message, exception, skipped)
        payload = message.args[0] if message.args and isinstance(message.args[0], dict) else {}
        self.metrics.JOB_DURATION.labels(kind, queue, outcome).observe(time.perf_counter() - started)
        if kind == "webhook":
            delivery = {"ok": "delivered"}.get(outcome, outcome)
            self.metrics.WEBHOOK_DELIVERIES.labels(str(payload.get("event", "?")), delivery).inc()


def job_outcome(message: Any, exception: BaseException | None, skipped: bool) -> str:
    """``ok``/``failed``/``retry``/``skipped``. A job that did not raise may still have failed its
    image (a permanent error the runner handled and recorded on the message, see
    :func:`worker.results.result_of`); a webhook that was not delivered raises."""
    if skipped:
        return "skipped"
    if exception is None:
        return "failed" if result_of(message) == "failed" else "ok"
    return "failed" if message.failed else "retry"
