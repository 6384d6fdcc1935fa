"""Worker heartbeats in Redis: the format (written by ``worker.heartbeat``) and the readers.

Every worker *process* beats every ``WORKER_HEARTBEAT_INTERVAL`` seconds:

* hash ``darkroom:workers:{id}`` — ``id`` (its Dramatiq broker id, so its ack sets can be
  found), ``host``, ``pid``, ``pool`` (pid of the pool's master process), ``queues``
  (comma-separated full names), ``threads``, ``version``, ``started_at`` (ISO-8601) and
  ``last_beat`` (epoch ms); it expires ``ttl`` ms after the last beat;
* zset ``darkroom:workers`` — id scored by ``last_beat``, so readers find workers without
  ``SCAN``. Members older than the TTL are pruned by readers and by every beat.

A worker is *live* when its last beat is younger than the TTL:
``max(HEARTBEAT_TIMEOUT_MS, 3 × WORKER_HEARTBEAT_INTERVAL)``, the same patience Dramatiq
has before it requeues a silent worker's messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from jobs.contract.constants import WORKERS_KEY, worker_key
from jobs.contract.settings import Settings


def heartbeat_ttl_ms(settings: Settings) -> int:
    return max(settings.heartbeat_timeout_ms, int(3 * settings.worker_heartbeat_interval * 1000))


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    id: str
    host: str
    pid: int
    pool: int
    queues: tuple[str, ...]
    threads: int
    version: str
    started_at: str
    last_beat: int = 0  # epoch ms

    def to_hash(self, beat_ms: int) -> dict[FieldT, EncodableT]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": str(self.pid),
            "pool": str(self.pool),
            "queues": ",".join(self.queues),
            "threads": str(self.threads),
            "version": self.version,
            "started_at": self.started_at,
            "last_beat": str(beat_ms),
        }

    @classmethod
    def from_hash(cls, raw: dict[bytes, bytes]) -> WorkerBeat:
        data = {k.decode(): v.decode() for k, v in raw.items()}
        return cls(
            id=data.get("id", ""),
            host=data.get("host", ""),
            pid=int(data.get("pid") or 0),
            pool=int(data.get("pool") or 0),
            queues=tuple(q for q in data.get("queues", "").split(",") if q),
            threads=int(data.get("threads") or 0),
            version=data.get("version", ""),
            started_at=data.get("started_at", ""),
            last_beat=int(data.get("last_beat") or 0),
        )

    def age_s(self, at_ms: int | None = None) -> float:
        return max(0.0, ((at_ms if at_ms is not None else now_ms()) - self.last_beat) / 1000)

    def as_dict(self, at_ms: int | None = None) -> dict[str, object]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "pool": self.pool,
            "queues": list(self.queues),
            "threads": self.threads,
            "version": self.version,
            "started_at": self.started_at,
            "last_beat": self.last_beat,
            "age_s": round(self.age_s(at_ms), 3),
        }


async def beat(redis: Redis, worker: WorkerBeat, ttl_ms: int) -> int:
    """Record one heartbeat (hash + index, pruning long-dead members); returns its time (ms)."""
    at = now_ms()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(worker_key(worker.id), mapping=worker.to_hash(at))
        pipe.pexpire(worker_key(worker.id), ttl_ms)
        pipe.zadd(WORKERS_KEY, {worker.id: at})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", at - ttl_ms)
        await pipe.execute()
    return at


async def leave(redis: Redis, worker_id: str) -> None:
    """A worker shutting down cleanly disappears at once instead of after the TTL."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(worker_key(worker_id))
        pipe.zrem(WORKERS_KEY, worker_id)
        await pipe.execute()


async def live_workers(redis: Redis, ttl_ms: int) -> list[WorkerBeat]:
    """Workers whose last beat is younger than ``ttl_ms``, oldest first."""
    at = now_ms()
    ids = cast(list[bytes], await redis.zrangebyscore(WORKERS_KEY, at - ttl_ms, "+inf"))
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for raw_id in ids:
            pipe.hgetall(worker_key(raw_id.decode()))
        rows = cast(list[dict[bytes, bytes]], await pipe.execute())
    workers = [WorkerBeat.from_hash(row) for row in rows if row]
    return sorted((w for w in workers if at - w.last_beat < ttl_ms), key=lambda w: (w.host, w.pid))
