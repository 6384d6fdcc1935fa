"""Jobs still running when the shutdown grace period ends are put back on their queue."""

from __future__ import annotations

from typing import Any

import dramatiq
import redis

from worker.middleware import RequeueOnShutdown


class Broker:
    def __init__(self, down: bool = False) -> None:
        self.requeued: list[tuple[str, ...]] = []
        self.down = down

    def do_requeue(self, queue_name: str, *ids: str) -> None:
        if self.down:
            raise redis.ConnectionError("Connection refused.")
        self.requeued.append((queue_name, *ids))


def message(queue: str, redis_id: str) -> dramatiq.MessageProxy:
    options: dict[str, Any] = {"redis_message_id": redis_id}
    return dramatiq.MessageProxy(
        dramatiq.Message(queue_name=queue, actor_name="upload", args=(), kwargs={}, options=options)
    )


def test_only_the_messages_still_running_are_requeued() -> None:
    middleware, broker = RequeueOnShutdown(), Broker()
    done, skipped, overran = message("q", "r1"), message("q", "r2"), message("q", "r3")
    for m in (done, skipped, overran):
        middleware.before_process_message(broker, m)
    middleware.after_process_message(broker, done, exception=RuntimeError("boom"))
    middleware.after_skip_message(broker, skipped)

    middleware.after_worker_shutdown(broker, worker=None)
    assert broker.requeued == [("q", "r3")]
    middleware.after_worker_shutdown(broker, worker=None)  # once only
    assert broker.requeued == [("q", "r3")]


def test_redis_down_at_shutdown_is_logged_not_raised() -> None:
    middleware, broker = RequeueOnShutdown(), Broker(down=True)
    middleware.before_process_message(broker, message("q", "r1"))
    middleware.after_worker_shutdown(broker, worker=None)  # the heartbeat timeout brings it back later
    assert broker.requeued == []
