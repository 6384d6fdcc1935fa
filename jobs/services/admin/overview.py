"""The operator's view of a deployment, as the API serves it (``/dashboard``, ``/metrics``).

One object over the Redis reads of :mod:`jobs.services.admin.stats`, :mod:`jobs.services.admin.images` and
:mod:`jobs.services.admin.dead_letters`, so the routes ask :class:`jobs.services.producer.Producer` for what
they show instead of reading Redis themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.plumbing.queue import JobQueue
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import Record
from jobs.services.admin.dead_letters import DeadLetter, Replayer, RequeueReport, list_dead
from jobs.services.admin.images import (
    OldestProcessing,
    oldest_processing,
    recent_accounts,
    recent_failures,
    recent_images,
)
from jobs.services.admin.stats import Snapshot, read_snapshot
from jobs.services.admin.trends import Trends, read_trends


@dataclass(frozen=True, slots=True)
class Overview:
    settings: Settings
    redis: Redis
    storage: Storage
    queue: JobQueue

    async def snapshot(self) -> Snapshot:
        """Queues, workers, image counts, the oldest processing image, the last fsck."""
        return await read_snapshot(self.redis, self.settings)

    async def trends(self) -> Trends:
        """Per queue, the last hour's jobs done/failed per minute and p50/p95 durations."""
        return await read_trends(self.redis, time.time())

    async def active_accounts(self) -> set[str]:
        """The configured accounts and those with recent events."""
        return await recent_accounts(self.redis, self.settings.accounts())

    async def recent_images(self, accounts: set[str], limit: int) -> list[Record]:
        return await recent_images(self.redis, accounts, limit)

    async def recent_failures(self, accounts: set[str] | None, limit: int) -> list[Record]:
        """``accounts`` None: everyone's."""
        return await recent_failures(self.redis, accounts, limit)

    async def oldest_processing(self, account: str | None = None) -> OldestProcessing | None:
        return await oldest_processing(self.redis, account)

    async def dead_letters(self, queue: Queue, limit: int) -> list[DeadLetter]:
        return await list_dead(self.redis, queue, limit)

    async def requeue(self, queues: list[Queue]) -> RequeueReport:
        """Replay the dead letters of ``queues``."""
        return await Replayer(self.settings, self.redis, self.storage, self.queue).requeue(queues)
