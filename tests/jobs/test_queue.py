"""JobQueue: the asyncio enqueue stores exactly what Dramatiq's own enqueue stores."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from dramatiq.middleware import Middleware
from redis.asyncio import Redis as AsyncRedis

from jobs.contract.constants import NAMESPACE
from jobs.contract.errors import BrokerUnavailable
from jobs.contract.ids import new_image_id, new_token
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.plumbing.queue import JobQueue, redis_broker
from jobs.plumbing.wakeup import wake_key
from tests.support.servers import free_port

QUEUE = "darkroom.upload"


class Recorder(Middleware):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int | None]] = []

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.seen.append(("before", message.queue_name, delay))

    def after_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.seen.append(("after", message.queue_name, delay))


def job() -> UploadJob:
    return UploadJob(image_id=new_image_id(), account="acme", job_id=new_token())


def stored(client: redis.Redis, queue: str) -> list[dict[str, Any]]:
    """The messages of ``queue`` in Redis, in queue order (Dramatiq's layout: ids + a hash)."""
    ids = client.lrange(f"{NAMESPACE}:{queue}", 0, -1)
    bodies = client.hmget(f"{NAMESPACE}:{queue}.msgs", ids) if ids else []
    return [json.loads(body) for body in bodies]


async def asend_on_client(
    settings: Settings, broker: Any, sent: UploadJob, delay_ms: int | None = None
) -> str:
    """``JobQueue.asend`` on an asyncio client of ``settings.redis_url``: the async enqueue."""

    client = AsyncRedis.from_url(settings.redis_url)
    try:
        return await JobQueue(broker, client).asend(sent, delay_ms=delay_ms)
    finally:
        await client.aclose()


async def enqueue_both(settings: Settings, delay_ms: int | None = None) -> tuple[Recorder, list[UploadJob]]:
    """One job through the broker's own enqueue (a thread), one through the asyncio client."""
    recorder = Recorder()
    broker = redis_broker(settings, middleware=[recorder])
    jobs = [job(), job()]
    await JobQueue(broker).asend(jobs[0], delay_ms=delay_ms)
    await asend_on_client(settings, broker, jobs[1], delay_ms)
    broker.close()
    return recorder, jobs


async def test_the_async_enqueue_stores_what_dramatiq_would(settings: Settings) -> None:
    recorder, jobs = await enqueue_both(settings)
    client = redis.Redis.from_url(settings.redis_url)

    sync_message, async_message = stored(client, QUEUE)

    varying = {"message_id", "message_timestamp", "args", "options"}
    assert {k: v for k, v in async_message.items() if k not in varying} == {
        k: v for k, v in sync_message.items() if k not in varying
    }
    assert sync_message["args"] == [jobs[0].to_message_args()]
    assert async_message["args"] == [jobs[1].to_message_args()]
    assert set(async_message["options"]) == set(sync_message["options"]) == {"redis_message_id"}
    assert client.llen(wake_key(QUEUE)) == 2  # each woke an idle worker
    assert recorder.seen == [("before", QUEUE, None), ("after", QUEUE, None)] * 2
    client.close()


async def test_a_delayed_async_enqueue_goes_to_the_delay_queue(settings: Settings) -> None:
    recorder, jobs = await enqueue_both(settings, delay_ms=60_000)
    client = redis.Redis.from_url(settings.redis_url)

    assert recorder.seen == [("before", QUEUE + ".DQ", 60_000), ("after", QUEUE + ".DQ", 60_000)] * 2
    assert stored(client, QUEUE) == []
    messages = stored(client, QUEUE + ".DQ")
    assert [m["args"] for m in messages] == [[j.to_message_args()] for j in jobs]
    assert all(m["queue_name"] == QUEUE + ".DQ" and m["options"]["eta"] > 0 for m in messages)
    assert client.llen(wake_key(QUEUE)) == 0  # nothing is due yet: no worker woken
    client.close()


async def test_a_dramatiq_consumer_gets_the_async_enqueued_message(settings: Settings) -> None:
    broker = redis_broker(settings)
    sent = job()

    message_id = await asend_on_client(settings, broker, sent)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    received = next(m for m in consumer if m is not None)
    assert received.message_id == message_id
    assert received.args == (sent.to_message_args(),)
    assert received.actor_name == "upload" and received.queue_name == QUEUE
    consumer.ack(received)
    consumer.close()
    broker.close()


async def test_redis_down_is_broker_unavailable(make_settings: Any) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    broker = redis_broker(settings)

    with pytest.raises(BrokerUnavailable):
        await asend_on_client(settings, broker, job())
