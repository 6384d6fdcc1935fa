"""One consistent read of what the system is doing: ``darkroom status``, ``/metrics``, ``/dashboard``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.services.admin.fsck import read_summary
from jobs.services.admin.images import ImageCounts, OldestProcessing, image_counts, oldest_processing
from jobs.services.admin.queues import QueueStats, queue_stats
from jobs.services.admin.workers import WorkerBeat, heartbeat_ttl_ms, live_workers, now_ms


@dataclass(frozen=True, slots=True)
class Snapshot:
    at_ms: int
    queues: list[QueueStats]
    workers: list[WorkerBeat]
    images: ImageCounts | None  # None: not asked for (worker exporters skip the scan)
    oldest_processing: OldestProcessing | None
    fsck: dict[str, float] | None = None  # the scheduler's last storage check; None: never ran

    def queue(self, queue: Queue | str) -> QueueStats:
        name = Queue.parse(str(queue)).value
        return next(q for q in self.queues if q.queue == name)

    def as_dict(self) -> dict[str, object]:
        return {
            "generated_at": datetime.fromtimestamp(self.at_ms / 1000, UTC).isoformat(),
            "queues": [q.as_dict() for q in self.queues],
            "workers": [w.as_dict(self.at_ms) for w in self.workers],
            "images": None
            if self.images is None
            else {
                "by_status": self.images.by_status,
                "total": self.images.total,
            },
            "oldest_processing": None if self.oldest_processing is None else self.oldest_processing.as_dict(),
            "fsck": self.fsck,
        }


async def read_snapshot(redis: Redis, settings: Settings, *, images: bool = True) -> Snapshot:
    workers = await live_workers(redis, heartbeat_ttl_ms(settings))
    queues = await queue_stats(redis, settings.heartbeat_timeout_ms, workers)
    counts = await image_counts(redis) if images else None
    oldest = await oldest_processing(redis) if images else None
    return Snapshot(now_ms(), queues, workers, counts, oldest, await read_summary(redis))
