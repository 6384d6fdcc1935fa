"""Darkroom's Prometheus metrics: one registry, every name ``darkroom_*``.

Two kinds of numbers:

* **process metrics** defined below on :data:`REGISTRY` — job durations by kind and outcome,
  jobs in progress, bytes read/written by jobs, webhook deliveries (worker processes) and
  HTTP requests (API). Worker pools fork several processes, so they use prometheus_client's
  multiprocess mode exactly like Dramatiq's own Prometheus middleware: every process writes
  its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and one exporter per pool aggregates
  them. The mode is chosen when prometheus_client is first imported, so worker code imports
  this module only after the directory is set (``worker.middleware.metrics``);
* **system gauges** read from Redis at scrape time (:class:`SnapshotCollector`): queue
  depth, delayed, in flight and dead letters per queue, live workers, images by status,
  the oldest processing image, the scheduler's last storage check (``darkroom_fsck_*``).
  Every scraper (API, any worker pool) reports the same truth.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from jobs.services.admin.fsck import KINDS as FSCK_KINDS
from jobs.services.admin.stats import Snapshot

__all__ = ["CONTENT_TYPE_LATEST"]

REGISTRY: Final = CollectorRegistry()

JOB_OUTCOMES: Final = ("ok", "failed", "retry", "skipped")
WEBHOOK_OUTCOMES: Final = ("delivered", "retry", "failed")

JOB_DURATION: Final = Histogram(
    "darkroom_job_duration_seconds",
    "Time a worker spent on a job, by kind and outcome (ok, failed, retry, skipped).",
    ["kind", "queue", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, float("inf")),
    registry=REGISTRY,
)
JOBS_IN_PROGRESS: Final = Gauge(
    "darkroom_jobs_in_progress",
    "Jobs being executed right now, by kind.",
    ["kind", "queue"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
BYTES_IN: Final = Counter(
    "darkroom_bytes_in",
    "Bytes jobs read: objects read from storage and source URLs staged, by job kind.",
    ["kind"],
    registry=REGISTRY,
)
BYTES_OUT: Final = Counter(
    "darkroom_bytes_out",
    "Bytes jobs wrote to storage (masters, sizes, derivatives, public copies), by job kind.",
    ["kind"],
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES: Final = Counter(
    "darkroom_webhook_deliveries",
    "Webhook delivery attempts by event and outcome (delivered, retry, failed).",
    ["event", "outcome"],
    registry=REGISTRY,
)
HTTP_REQUESTS: Final = Counter(
    "darkroom_http_requests",
    "API requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION: Final = Histogram(
    "darkroom_http_request_duration_seconds",
    "API request latency by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf")),
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def multiprocess_active() -> bool:
    """True when this process's metric values live in the multiprocess directory."""
    return getattr(values.ValueClass, "__name__", "") == "MmapedValue"


class SnapshotCollector(Collector):
    """System gauges from one :class:`Snapshot` (``None``: Redis did not answer)."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("darkroom_redis_up", "1 if Redis answered this scrape's reads.")
        up.add_metric([], 1.0 if self.snapshot is not None else 0.0)
        yield up
        if self.snapshot is not None:
            yield from snapshot_families(self.snapshot)


def _per_queue(snapshot: Snapshot, name: str, doc: str, attr: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["queue"])
    for q in snapshot.queues:
        family.add_metric([q.queue], float(getattr(q, attr)))
    return family


QUEUE_GAUGES: Final = (
    ("darkroom_queue_depth", "Messages ready in the queue (LLEN).", "ready"),
    ("darkroom_queue_delayed", "Delayed messages (retry backoff, eta).", "delayed"),
    ("darkroom_queue_in_flight", "Fetched by live workers, not acked yet.", "in_flight"),
    ("darkroom_queue_dead_letters", "Dead-lettered messages.", "dead"),
    ("darkroom_queue_workers", "Live worker processes consuming the queue.", "workers"),
)


def snapshot_families(snapshot: Snapshot) -> Iterator[Metric]:
    for name, doc, attr in QUEUE_GAUGES:
        yield _per_queue(snapshot, name, doc, attr)
    live = GaugeMetricFamily("darkroom_workers_live", "Worker processes with a fresh heartbeat.")
    live.add_metric([], float(len(snapshot.workers)))
    yield live
    if snapshot.images is not None:
        images = GaugeMetricFamily("darkroom_images", "Image records by status.", labels=["status"])
        for status, count in sorted(snapshot.images.by_status.items()):
            images.add_metric([status], float(count))
        yield images
        oldest = GaugeMetricFamily(
            "darkroom_oldest_processing_age_seconds", "Age of the oldest image still processing (0: none)."
        )
        oldest.add_metric([], snapshot.oldest_processing.age_s if snapshot.oldest_processing else 0.0)
        yield oldest
    if snapshot.fsck is not None:
        yield from fsck_families(snapshot.fsck)


def fsck_families(summary: dict[str, float]) -> Iterator[Metric]:
    """The scheduler's last ``fsck`` (:mod:`.fsck`): alert on ``darkroom_fsck_problems > 0``."""
    problems = GaugeMetricFamily(
        "darkroom_fsck_problems",
        "Problems the last scheduled storage check left: orphan, missing, unindexed, foreign.",
        labels=["kind"],
    )
    for kind in FSCK_KINDS:
        problems.add_metric([kind], summary.get(kind, 0.0))
    yield problems
    repaired = GaugeMetricFamily(
        "darkroom_fsck_repaired", "Staged originals no record owned that the last scheduled check removed."
    )
    repaired.add_metric([], summary.get("repaired", 0.0))
    yield repaired
    last = GaugeMetricFamily(
        "darkroom_fsck_last_run_timestamp_seconds", "When the last scheduled check started."
    )
    last.add_metric([], summary.get("at", 0.0))
    yield last


def exposition(snapshot: Snapshot | None, *, process_metrics: bool = True) -> bytes:
    """The text exposition: this process's (or, in multiprocess mode, the pool's) metrics + gauges."""
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(snapshot))
    body = generate_latest(registry)
    if not process_metrics:
        return body
    directory = multiprocess_dir()
    if directory is not None and multiprocess_active():
        pool = CollectorRegistry()
        MultiProcessCollector(pool, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(pool) + body
    return generate_latest(REGISTRY) + body
