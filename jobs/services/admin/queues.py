"""Per-queue numbers straight from Dramatiq's Redis keys (see :mod:`jobs.services.admin.keys`).

* ``ready``     — ``LLEN darkroom:{queue}``: waiting for a worker (what KEDA scales on);
* ``delayed``   — ``HLEN darkroom:{queue}.DQ.msgs``: retries waiting out their backoff and
  delayed sends, whether still in Redis or already prefetched by a worker;
* ``in_flight`` — ``SCARD`` of the ack sets of *live* broker processes: fetched, not acked
  (includes a few prefetched messages; a dead worker's are requeued by Dramatiq's maintenance);
* ``dead``      — ``ZCARD darkroom:{queue}.XQ``: dead letters (kept 7 days by Dramatiq).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.services.admin.keys import (
    BROKER_HEARTBEATS_KEY,
    acks_key,
    dead_key,
    delayed_messages_key,
    queue_key,
)
from jobs.services.admin.workers import WorkerBeat, now_ms


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue: str
    ready: int
    delayed: int
    in_flight: int
    dead: int
    workers: int  # live worker processes consuming this queue

    @property
    def short(self) -> str:
        return Queue(self.queue).short

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"name": self.short}


async def live_broker_ids(redis: Redis, heartbeat_timeout_ms: int) -> list[str]:
    """Broker processes (workers and producers) that talked to Redis within the timeout."""
    ids = cast(
        list[bytes],
        await redis.zrangebyscore(BROKER_HEARTBEATS_KEY, now_ms() - heartbeat_timeout_ms, "+inf"),
    )
    return [raw.decode() for raw in ids]


async def queue_stats(
    redis: Redis, heartbeat_timeout_ms: int, workers: list[WorkerBeat], queues: list[Queue] | None = None
) -> list[QueueStats]:
    """One :class:`QueueStats` per queue (all of :class:`Queue` by default), in two round trips.

    The counts are read in one ``MULTI``/``EXEC``: Dramatiq moves messages with atomic Lua
    scripts, so a message is seen exactly once (ready, in flight or dead), never twice.
    """
    selected = list(queues) if queues is not None else list(Queue)
    brokers = await live_broker_ids(redis, heartbeat_timeout_ms)
    async with redis.pipeline(transaction=True) as pipe:
        for queue in selected:
            pipe.llen(queue_key(queue))
            pipe.hlen(delayed_messages_key(queue))
            pipe.zcard(dead_key(queue))
            for broker_id in brokers:
                pipe.scard(acks_key(broker_id, queue))
        replies = cast(list[int], await pipe.execute())
    stats, pos = [], 0
    for queue in selected:
        ready, delayed, dead = replies[pos : pos + 3]
        in_flight = sum(replies[pos + 3 : pos + 3 + len(brokers)])
        pos += 3 + len(brokers)
        consuming = sum(1 for w in workers if queue.value in w.queues)
        stats.append(QueueStats(queue.value, int(ready), int(delayed), int(in_flight), int(dead), consuming))
    return stats
