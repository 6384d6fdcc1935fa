"""The backends every Darkroom process talks to, opened in one place: Redis, storage, the
image store on both, and the job queue.

The API (:class:`jobs.services.producer.Producer`), the worker (:class:`worker.context.WorkerContext`)
and the CLI each open one :class:`Backends` and add what is theirs on top. The worker hands
in its own broker (enqueues then go through its middleware) and wraps the storage (byte
metrics) *before* the store is built on it, so every write is seen by the wrapper.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import dramatiq
from redis.asyncio import Redis

from jobs.contract.settings import Settings
from jobs.plumbing.queue import JobQueue, redis_broker
from jobs.plumbing.storage import Storage, open_storage
from jobs.plumbing.store import ImageStore

WrapStorage = Callable[[Storage], Storage]
T = TypeVar("T")


@dataclass(slots=True)
class Backends:
    settings: Settings
    redis: Redis
    storage: Storage
    store: ImageStore
    queue: JobQueue
    owns_broker: bool = True  # close the queue's broker with the rest (not a worker's own broker)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        broker: dramatiq.Broker | None = None,
        wrap_storage: WrapStorage | None = None,
        **redis_options: Any,
    ) -> Backends:
        """Open them on the running loop. ``broker``: enqueue through this one (else a producer
        broker of our own); ``wrap_storage``: wrap the storage before anything uses it;
        ``redis_options``: for ``Redis.from_url`` (default: a health check every 30 s)."""
        redis = Redis.from_url(settings.redis_url, **({"health_check_interval": 30} | redis_options))
        try:
            storage = await open_storage(settings)
        except BaseException:
            await redis.aclose()
            raise
        return cls.around(settings, redis, wrap_storage(storage) if wrap_storage else storage, broker=broker)

    @classmethod
    def around(
        cls,
        settings: Settings,
        redis: Redis,
        storage: Storage,
        *,
        broker: dramatiq.Broker | None = None,
        queue: JobQueue | None = None,
    ) -> Backends:
        """The store and the queue on open clients (the one place they are built). ``queue``: this
        one (a test double) instead of one on ``broker`` or on a producer broker of our own."""
        if queue is None:
            queue = JobQueue(broker if broker is not None else redis_broker(settings), redis)
        return cls(settings, redis, storage, ImageStore(redis, storage), queue, owns_broker=broker is None)

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, settings: Settings, **options: Any) -> AsyncIterator[Backends]:
        backends = await cls.open(settings, **options)
        try:
            yield backends
        finally:
            await backends.close()

    async def close(self) -> None:
        if self.owns_broker:
            self.queue.close()
        await self.storage.close()
        await self.redis.aclose()


def run_with_backends(settings: Settings, use: Callable[[Backends], Awaitable[T]], **options: Any) -> T:
    """For synchronous callers (the CLI): open the backends on a fresh loop, ``use`` them, close."""

    async def run() -> T:
        async with Backends.connect(settings, **options) as backends:
            return await use(backends)

    return asyncio.run(run())


class OnBackends:
    """What :class:`Backends` holds, read through ``self.backends`` (the producer and the
    worker context each embed one and add their own parts)."""

    __slots__ = ()
    backends: Backends

    @property
    def settings(self) -> Settings:
        return self.backends.settings

    @property
    def redis(self) -> Redis:
        return self.backends.redis

    @property
    def storage(self) -> Storage:
        return self.backends.storage

    @property
    def store(self) -> ImageStore:
        return self.backends.store

    @property
    def queue(self) -> JobQueue:
        return self.backends.queue
