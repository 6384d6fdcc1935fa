"""A dead worker's fetched-but-unacked messages go back to their queue on the schedule."""

from __future__ import annotations

import time

import dramatiq
import redis

from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.plumbing.queue import redis_broker
from worker.maintenance import requeue_dead_workers


def test_unacked_messages_of_a_silent_worker_are_requeued(settings: Settings) -> None:
    fast = settings.model_copy(update={"heartbeat_timeout_ms": 500})
    producer, dead, alive = (redis_broker(fast) for _ in range(3))
    queue = Queue.UPLOAD.value
    r = redis.Redis.from_url(settings.redis_url)
    try:
        producer.enqueue(
            dramatiq.Message(queue_name=queue, actor_name="upload", args=(), kwargs={}, options={})
        )
        fetched = dead.do_fetch(queue, 1)  # the "dead" worker takes it, then never speaks again
        assert len(fetched) == 1 and r.llen(f"darkroom:{queue}") == 0
        requeue_dead_workers(alive)
        assert r.llen(f"darkroom:{queue}") == 0  # its heartbeat is still fresh: hands off
        time.sleep(0.7)
        requeue_dead_workers(alive)
        assert r.llen(f"darkroom:{queue}") == 1
        assert r.scard(f"darkroom:__acks__.{dead.broker_id}.{queue}") == 0
    finally:
        for broker in (producer, dead, alive):
            broker.close()
        r.close()
