"""The producer side of the broker: put job payloads on Dramatiq queues.

Producers never import the worker's actors; they address them by name
(``payload.kind``) on the payload's queue, exactly as Dramatiq would.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis.asyncio import Redis as AsyncRedis

from jobs.contract.constants import NAMESPACE
from jobs.contract.payloads import JobPayload
from jobs.contract.settings import Settings
from jobs.plumbing.async_enqueue import AsyncEnqueuer
from jobs.plumbing.store.errors import redis_errors
from jobs.plumbing.wakeup import WakingRedisBroker


def redis_broker(settings: Settings, *, middleware: list[Any] | None = None, **options: Any) -> RedisBroker:
    """A Dramatiq RedisBroker in Darkroom's namespace (producers pass no middleware).

    Enqueues wake idle workers at once (:mod:`jobs.plumbing.wakeup`) instead of waiting for their next poll.
    """
    return WakingRedisBroker(
        url=settings.redis_url,
        namespace=NAMESPACE,
        heartbeat_timeout=settings.heartbeat_timeout_ms,
        middleware=middleware if middleware is not None else [],
        **options,
    )


class JobSender(Protocol):
    """What producer services need of a queue: send one job from asyncio (:class:`JobQueue`)."""

    async def asend(self, job: JobPayload, *, delay_ms: int | None = None) -> str: ...


class JobQueue:
    """Enqueues payloads; every Redis error is translated at this edge (:func:`redis_errors`):
    connection trouble and a failover's ``READONLY``/``MASTERDOWN`` become
    :class:`BrokerUnavailable` (HTTP 503, transient), anything else :class:`Internal`.

    With ``redis`` (the caller's asyncio client) ``asend`` enqueues on it, in one round trip
    with the wake token (:mod:`jobs.plumbing.async_enqueue`); without, it runs the broker's own
    enqueue in a thread.
    """

    def __init__(self, broker: dramatiq.Broker, redis: AsyncRedis | None = None) -> None:
        self.broker = broker
        self._async = (
            AsyncEnqueuer(broker, redis) if redis is not None and isinstance(broker, RedisBroker) else None
        )

    def message_for(self, job: JobPayload) -> dramatiq.Message[Any]:
        return dramatiq.Message(
            queue_name=job.queue.value,
            actor_name=job.kind,
            args=(job.to_message_args(),),
            kwargs={},
            options={},
        )

    def send(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        with redis_errors():
            message = self.broker.enqueue(self.message_for(job), delay=delay_ms)
        return str(message.message_id)

    async def asend(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        if self._async is None:
            return await asyncio.to_thread(self.send, job, delay_ms=delay_ms)
        with redis_errors():
            message = await self._async.enqueue(self.message_for(job), delay_ms)
        return str(message.message_id)

    def close(self) -> None:
        self.broker.close()
