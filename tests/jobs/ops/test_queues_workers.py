"""Queue numbers come from Dramatiq's own keys; workers from Darkroom's heartbeats."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dramatiq

from jobs.contract.constants import WORKERS_KEY, Queue, worker_key
from jobs.contract.settings import Settings
from jobs.plumbing.queue import redis_broker
from jobs.services.admin.keys import BROKER_HEARTBEATS_KEY, queue_key
from jobs.services.admin.queues import queue_stats
from jobs.services.admin.workers import WorkerBeat, beat, heartbeat_ttl_ms, leave, live_workers, now_ms
from tests.support.records import Env


def message(queue: Queue, n: int) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=queue.value, actor_name=queue.short, args=({"n": n},), kwargs={}, options={}
    )


def worker(id_: str, *queues: Queue, host: str = "pod-a", pid: int = 10) -> WorkerBeat:
    return WorkerBeat(
        id=id_, host=host, pid=pid, pool=1, queues=tuple(q.value for q in queues), threads=2,
        version="0", started_at="2024-01-01T00:00:00+00:00",
    )  # fmt: skip


async def test_ready_delayed_in_flight_and_dead_per_queue(env: Env, settings: Settings) -> None:
    broker = redis_broker(settings)
    try:
        for n in range(5):
            broker.enqueue(message(Queue.UPLOAD, n))
        for n in range(2):
            broker.enqueue(message(Queue.UPLOAD, 10 + n), delay=60_000)
        for n in range(3):
            broker.enqueue(message(Queue.TRANSFORM, n))
        consumer = broker.consume(Queue.TRANSFORM.value, prefetch=2)
        first = next(consumer)  # fetches two: both now in this broker's ack set
        assert first is not None
        consumer.nack(first)  # → dead letter
    finally:
        broker.close()

    workers = [worker("w1", Queue.UPLOAD), worker("w2", Queue.UPLOAD, Queue.TRANSFORM)]
    stats = {s.queue: s for s in await queue_stats(env.redis, settings.heartbeat_timeout_ms, workers)}
    upload, transform = stats[Queue.UPLOAD.value], stats[Queue.TRANSFORM.value]
    assert (upload.ready, upload.delayed, upload.in_flight, upload.dead, upload.workers) == (
        5,
        2,
        0,
        0,
        2,
    )
    assert (transform.ready, transform.in_flight, transform.dead, transform.workers) == (1, 1, 1, 1)
    assert stats[Queue.PURGE.value].workers == 0
    assert await env.redis.llen(queue_key(Queue.UPLOAD)) == upload.ready  # KEDA's listName

    # A broker that stopped talking to Redis no longer counts as holding messages in flight.
    await env.redis.zadd(BROKER_HEARTBEATS_KEY, {broker.broker_id: 1})
    later = await queue_stats(env.redis, settings.heartbeat_timeout_ms, workers, [Queue.TRANSFORM])
    assert [(s.queue, s.in_flight) for s in later] == [(Queue.TRANSFORM.value, 0)]


async def test_live_workers_expire_after_the_ttl_and_leave_at_once(env: Env, settings: Settings) -> None:
    ttl = heartbeat_ttl_ms(settings)
    assert ttl == max(settings.heartbeat_timeout_ms, int(3000 * settings.worker_heartbeat_interval))

    await beat(env.redis, worker("fresh", Queue.UPLOAD, pid=11), ttl)
    await beat(env.redis, worker("leaving", Queue.TRANSFORM, pid=12), ttl)
    stale = worker("stale", Queue.PURGE, pid=13)
    await env.redis.hset(worker_key("stale"), mapping=stale.to_hash(now_ms() - ttl - 1000))
    await env.redis.zadd(WORKERS_KEY, {"stale": now_ms() - ttl - 1000})

    live = await live_workers(env.redis, ttl)
    assert [(w.id, w.pid, w.queues) for w in live] == [
        ("fresh", 11, (Queue.UPLOAD.value,)),
        ("leaving", 12, (Queue.TRANSFORM.value,)),
    ]
    assert 0 < await env.redis.pttl(worker_key("fresh")) <= ttl  # the hash expires by itself too
    await leave(env.redis, "leaving")
    assert [w.id for w in await live_workers(env.redis, ttl)] == ["fresh"]
    assert await env.redis.exists(worker_key("leaving")) == 0
    await beat(env.redis, worker("fresh", Queue.UPLOAD, pid=11), ttl)  # a beat prunes the stale member
    assert await env.redis.zscore(WORKERS_KEY, "stale") is None


async def test_beat_round_trips_every_field(env: Env) -> None:
    me = worker("abc", Queue.UPLOAD, Queue.PUBLISH, host="pod-x", pid=42)
    at = await beat(env.redis, me, 10_000)
    (back,) = await live_workers(env.redis, 10_000)
    assert back == replace(me, last_beat=at)
    assert back.queues == (Queue.UPLOAD.value, Queue.PUBLISH.value)
    assert back.as_dict(at + 1500)["age_s"] == 1.5
