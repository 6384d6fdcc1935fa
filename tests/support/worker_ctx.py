"""``make_worker_ctx``: the one way tests build a worker ``ctx``.

A real :class:`worker.context.WorkerContext` (real HTTP client, limits, imaging threads) on
the test Redis (``settings.redis_url``), with doubles where a test wants them: in-memory
storage and a CDN purger that remembers what it purged by default, a recording queue if
given (else a real queue on the test Redis). ``await ctx.close()`` when done.
"""

from __future__ import annotations

from redis.asyncio import Redis

from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends
from jobs.plumbing.queue import JobQueue
from jobs.plumbing.storage import Storage
from jobs.plumbing.storage.memory import MemoryStorage
from worker.cdn import LogPurger, Purger
from worker.context import WorkerContext


async def make_worker_ctx(
    settings: Settings,
    *,
    storage: Storage | None = None,
    queue: JobQueue | None = None,
    purger: Purger | None = None,
) -> WorkerContext:
    """A worker ctx on the running loop. ``storage``: default :class:`MemoryStorage` (pass
    ``await open_storage(settings)`` for the configured one); ``queue``: e.g.
    :class:`tests.support.doubles.RecordingQueue`; ``purger``: default a :class:`LogPurger`."""
    redis = Redis.from_url(settings.redis_url, health_check_interval=30)
    backends = Backends.around(
        settings, redis, storage if storage is not None else MemoryStorage(), queue=queue
    )
    return WorkerContext.around(backends, purger=purger if purger is not None else LogPurger())
