"""A Redis broker whose idle workers wake when work arrives, instead of polling.

Dramatiq's Redis consumer polls an empty queue with an exponential backoff that grows to
``worker_timeout`` (1 s by default), so an idle pool picks up a new job after up to a
second. Here every enqueue also pushes a token on ``darkroom:wake:{queue}`` (capped), and
an idle consumer blocks on ``BLPOP`` of that key instead of sleeping: it wakes within a
millisecond of an enqueue, and still re-polls every ``worker_timeout`` on its own.
Delay queues keep Dramatiq's backoff (their messages are due later anyway).

At shutdown (:meth:`WakingRedisBroker.wake_for_shutdown`) every idle consumer of the process
is woken through a key only it listens on, ``darkroom:wake:stop:{broker_id}``, and stops
blocking: the pool exits in a fraction of a second instead of waiting out ``BLPOP``.

The inner consumer also answers "nothing" when it is *saturated* (``prefetch`` messages
fetched and not yet acked) without looking at the queue. That is not idleness: with a
backlog no enqueue comes to wake it, so it waits for the next ack instead, and fetches
again the moment a slot is free.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from dramatiq import Consumer, Message, MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import ConnectionClosed

from jobs.contract.constants import NAMESPACE
from jobs.plumbing.dramatiq_compat import compute_backoff, consumer_saturated

WAKE_TOKENS_MAX = 16
INNER_POLL_MS = 1  # the wrapped consumer's own backoff: practically none
STOPPING_POLL_S = 0.1  # while shutting down: poll (heartbeats go on) instead of blocking
STOP_KEY_TTL_S = 60


def wake_key(queue_name: str) -> str:
    return f"{NAMESPACE}:wake:{queue_name}"


def push_wake_token(pipe: Any, queue_name: str) -> None:
    """Queue on ``pipe`` (a sync or asyncio pipeline) the token that wakes an idle consumer."""
    key = wake_key(queue_name)
    pipe.lpush(key, 1)
    pipe.ltrim(key, 0, WAKE_TOKENS_MAX - 1)


def stop_key(broker_id: str) -> str:
    return f"{NAMESPACE}:wake:stop:{broker_id}"


class WakingConsumer(Consumer):
    """Dramatiq's consumer, with the idle sleep replaced by a wakeable blocking wait.

    ``keys`` empty (a delay queue): no wake tokens, the idle wait backs off like Dramatiq's
    own (``compute_backoff`` up to ``idle_timeout_ms``), but waiting on an
    event the shutdown sets.
    """

    def __init__(
        self,
        inner: Consumer,
        client: redis.Redis,
        keys: list[str],
        idle_timeout_ms: int,
        *,
        stopping: threading.Event,
    ) -> None:
        self.inner = inner
        self.client = client
        self.keys = keys
        self.idle_timeout_ms = max(10, idle_timeout_ms)
        self.idle_timeout_s = self.idle_timeout_ms / 1000
        self.stopping = stopping
        self._slot_freed = threading.Event()
        self._misses = 0

    def _saturated(self) -> bool:
        """The inner consumer holds ``prefetch`` unacked messages, so it did not even poll."""
        return consumer_saturated(self.inner)

    def __next__(self) -> MessageProxy | None:
        self._slot_freed.clear()
        message = next(self.inner)
        if message is not None:
            self._misses = 0
            return message
        if self._saturated():
            self._slot_freed.wait(self.idle_timeout_s)  # set by the next ack or nack
            return None
        if self.stopping.is_set():  # shutting down: Dramatiq stops this thread soon; heartbeats go on
            time.sleep(STOPPING_POLL_S)
            return None
        if not self.keys:
            self._misses, backoff_ms = compute_backoff(self._misses, max_backoff=self.idle_timeout_ms)
            self.stopping.wait(backoff_ms / 1000)
            return None
        try:
            self.client.blpop(self.keys, timeout=self.idle_timeout_s)
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
        self.stopping = threading.Event()
        self._waking_consumers = 0

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None:
            try:
                with self.client.pipeline(transaction=False) as pipe:
                    push_wake_token(pipe, message.queue_name)
                    pipe.execute()
            except redis.RedisError:
                pass  # the message is enqueued; a worker will find it on its next poll
        return enqueued

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        inner = super().consume(queue_name, prefetch, INNER_POLL_MS)
        if queue_name.endswith(".DQ"):  # messages due later: nothing to wake them for
            return WakingConsumer(inner, self.client, [], timeout, stopping=self.stopping)
        self._waking_consumers += 1
        keys = [wake_key(queue_name), stop_key(self.broker_id)]
        return WakingConsumer(inner, self.client, keys, timeout, stopping=self.stopping)

    def wake_for_shutdown(self) -> None:
        """Shutdown has begun: wake this process's idle consumers now and stop them blocking."""
        self.stopping.set()
        key = stop_key(self.broker_id)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.rpush(key, *([1] * max(1, self._waking_consumers)))
                pipe.expire(key, STOP_KEY_TTL_S)
                pipe.execute()
        except redis.RedisError:
            pass  # Redis down: the consumers wake on their own timeout
