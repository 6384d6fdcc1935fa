"""A Redis broker whose idle workers wake when work arrives, instead of polling.

Dramatiq's Redis consumer polls an empty queue with an exponential backoff that grows to
``worker_timeout`` (1 s by default), so an idle pool picks up a new job after up to a
second. Here every enqueue also pushes a token on ``darkroom:wake:{queue}`` (capped), and
an idle consumer blocks on ``BLPOP`` of that key instead of sleeping: it wakes within a
millisecond of an enqueue, and still re-polls every ``worker_timeout`` on its own.
Delay queues keep Dramatiq's behaviour (their messages are due later anyway).

The inner consumer also answers "nothing" when it is *saturated* (``prefetch`` messages
fetched and not yet acked) without looking at the queue. That is not idleness: with a
backlog no enqueue comes to wake it, so it waits for the next ack instead, and fetches
again the moment a slot is free.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from dramatiq import Consumer, Message, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import ConnectionClosed

from jobs.constants import NAMESPACE

WAKE_TOKENS_MAX = 16
INNER_POLL_MS = 1  # the wrapped consumer's own backoff: practically none


def wake_key(queue_name: str) -> str:
    return f"{NAMESPACE}:wake:{queue_name}"


class WakingConsumer(Consumer):
    """Dramatiq's consumer, with the idle sleep replaced by a wakeable blocking wait."""

    def __init__(self, inner: Consumer, client: redis.Redis, queue_name: str, idle_timeout_ms: int) -> None:
        self.inner = inner
        self.client = client
        self.key = wake_key(queue_name)
        self.idle_timeout_s = max(0.01, idle_timeout_ms / 1000)
        self._slot_freed = threading.Event()

    def _saturated(self) -> bool:
        """The inner consumer holds ``prefetch`` unacked messages, so it did not even poll."""
        outstanding = getattr(self.inner, "outstanding_message_count", 0)
        return bool(outstanding >= getattr(self.inner, "prefetch", outstanding + 1))

    def __next__(self) -> MessageProxy | None:
        self._slot_freed.clear()
        message = next(self.inner)
        if message is not None:
            return message
        if self._saturated():
            self._slot_freed.wait(self.idle_timeout_s)  # set by the next ack or nack
            return None
        try:
            self.client.blpop([self.key], timeout=self.idle_timeout_s)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ConnectionClosed(exc) from None
        return None

    def ack(self, message: MessageProxy) -> None:
        try:
            self.inner.ack(message)
        finally:
            self._slot_freed.set()

    def nack(self, message: MessageProxy) -> None:
        try:
            self.inner.nack(message)
        finally:
            self._slot_freed.set()

    def requeue(self, messages: Any) -> None:
        self.inner.requeue(messages)

    def close(self) -> None:
        self.inner.close()


class WakingRedisBroker(RedisBroker):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None:
            key = wake_key(message.queue_name)
            try:
                with self.client.pipeline(transaction=False) as pipe:
                    pipe.lpush(key, 1)
                    pipe.ltrim(key, 0, WAKE_TOKENS_MAX - 1)
                    pipe.execute()
            except redis.RedisError:
                pass  # the message is enqueued; a worker will find it on its next poll
        return enqueued

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        if queue_name.endswith(".DQ"):
            return super().consume(queue_name, prefetch, timeout)
        inner = super().consume(queue_name, prefetch, INNER_POLL_MS)
        return WakingConsumer(inner, self.client, queue_name, timeout)
