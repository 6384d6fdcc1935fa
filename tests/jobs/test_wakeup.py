"""Idle workers wake on enqueue instead of waiting out Dramatiq's polling backoff."""

from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.broker import Consumer, MessageProxy

from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.plumbing.queue import redis_broker
from jobs.plumbing.wakeup import WAKE_TOKENS_MAX, WakingConsumer, wake_key


def message(queue: str) -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=queue, actor_name="upload", args=(), kwargs={}, options={})


def test_an_idle_consumer_blocks_until_an_enqueue_wakes_it(settings: Settings) -> None:
    queue = Queue.UPLOAD.value
    worker, producer = redis_broker(settings), redis_broker(settings)
    consumer = worker.consume(queue, prefetch=1, timeout=10_000)  # would sleep up to 10 s unwoken
    assert isinstance(consumer, WakingConsumer)
    got: list[MessageProxy] = []

    def consume() -> None:
        started = time.monotonic()
        while time.monotonic() - started < 15:
            item = next(consumer)
            if item is not None:
                got.append(item)
                return

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)  # the consumer is now parked on BLPOP
    assert not got
    producer.enqueue(message(queue))
    thread.join(timeout=5)
    assert not thread.is_alive(), "the enqueue did not wake the idle consumer"
    assert len(got) == 1
    consumer.ack(got[0])
    for broker in (worker, producer):
        broker.close()


def test_wake_tokens_are_capped_and_delayed_messages_do_not_wake(settings: Settings) -> None:
    queue = Queue.TRANSFORM.value
    producer = redis_broker(settings)
    r = redis.Redis.from_url(settings.redis_url)
    for _ in range(WAKE_TOKENS_MAX * 3):
        producer.enqueue(message(queue))
    assert r.llen(wake_key(queue)) == WAKE_TOKENS_MAX
    r.delete(wake_key(queue))
    producer.enqueue(message(queue), delay=60_000)
    assert r.llen(wake_key(queue)) == 0
    delayed = producer.consume(f"{queue}.DQ")
    assert isinstance(delayed, WakingConsumer) and delayed.keys == []  # listens for no wake tokens
    producer.close()
    r.close()


def test_a_delay_queue_consumer_still_yields_messages_once_due(settings: Settings) -> None:
    queue = Queue.TRANSFORM.value
    producer = redis_broker(settings)
    producer.enqueue(message(queue), delay=300)
    consumer = producer.consume(f"{queue}.DQ", prefetch=1, timeout=1_000)
    started = time.monotonic()
    got = None
    while got is None and time.monotonic() - started < 10:
        got = next(consumer)
    assert got is not None and got.queue_name == f"{queue}.DQ"
    consumer.ack(got)
    producer.close()


def test_shutdown_wakes_idle_consumers_at_once_and_they_stop_blocking(settings: Settings) -> None:
    worker = redis_broker(settings)
    consumers = [
        worker.consume(Queue.UPLOAD.value, prefetch=1, timeout=10_000),  # BLPOP for up to 10 s
        worker.consume(f"{Queue.UPLOAD.value}.DQ", prefetch=1, timeout=10_000),  # backs off to 10 s
    ]
    delayed = consumers[1]
    assert isinstance(delayed, WakingConsumer)
    delayed._misses = 20  # idle for long: its backoff is at the 10 s ceiling
    returned: list[float] = []

    def idle(consumer: Consumer) -> None:
        started = time.monotonic()
        assert next(consumer) is None
        returned.append(time.monotonic() - started)

    threads = [threading.Thread(target=idle, args=(c,)) for c in consumers]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # both are parked now
    assert returned == []
    worker.wake_for_shutdown()
    for thread in threads:
        thread.join(timeout=3)
    assert len(returned) == 2 and max(returned) < 3, returned  # not the 10 s they were waiting for
    for consumer in consumers:  # and from now on they poll instead of blocking
        started = time.monotonic()
        assert next(consumer) is None
        assert time.monotonic() - started < 3
    worker.close()


def test_a_saturated_consumer_fetches_again_as_soon_as_an_ack_frees_a_slot(settings: Settings) -> None:
    """A backlog sends no wake tokens: a consumer with all ``prefetch`` slots busy must not park
    on BLPOP for ``worker_timeout``, or a pool works through a backlog at prefetch jobs/s."""
    queue = Queue.UPLOAD.value
    worker, producer = redis_broker(settings), redis_broker(settings)
    r = redis.Redis.from_url(settings.redis_url)
    producer.enqueue(message(queue))
    producer.enqueue(message(queue))
    r.delete(wake_key(queue))  # the backlog is old: its tokens were spent long ago
    consumer = worker.consume(queue, prefetch=1, timeout=10_000)
    first = next(consumer)
    assert first is not None
    got: list[MessageProxy] = []

    def consume() -> None:
        started = time.monotonic()
        while time.monotonic() - started < 15 and not got:
            item = next(consumer)
            if item is not None:
                got.append(item)

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)  # saturated: the second message waits for the first one's ack
    assert not got
    acked = time.monotonic()
    consumer.ack(first)
    thread.join(timeout=5)
    assert not thread.is_alive() and len(got) == 1
    assert time.monotonic() - acked < 2, "the freed slot was not used until the idle timeout"
    consumer.ack(got[0])
    for broker in (worker, producer):
        broker.close()
    r.close()
