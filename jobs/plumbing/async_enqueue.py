"""Dramatiq's Redis enqueue on an asyncio client, with the wake token in the same round trip.

``RedisBroker.enqueue`` is synchronous. On an event loop (the API, a worker's pipelines) it
cost a thread hop, a second connection pool, and with :mod:`jobs.plumbing.wakeup` a second round trip
for the wake token: about a tenth of the API's CPU for a small upload. :class:`AsyncEnqueuer`
stores the very same message with the very same Lua script and arguments as
``RedisBroker.enqueue`` (the broker internals it needs come from :mod:`jobs.plumbing.dramatiq_compat`)
through the asyncio client, pipelined with the wake token. The broker's middleware sees
``before_enqueue``/``after_enqueue`` as with the broker's own enqueue, and
``tests/jobs/test_queue.py`` checks that Redis ends up holding what the broker would write.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis.asyncio import Redis

from jobs.plumbing import dramatiq_compat as compat
from jobs.plumbing.wakeup import push_wake_token

Message: TypeAlias = dramatiq.Message[Any]


class AsyncEnqueuer:
    def __init__(self, broker: RedisBroker, redis: Redis) -> None:
        self.broker = broker
        self.redis = redis
        self._dispatch = redis.register_script(compat.dispatch_source(broker))
        self._max_unpack_size: int | None = None

    async def enqueue(self, message: Message, delay: int | None = None) -> Message:
        broker = self.broker
        if self._max_unpack_size is None:  # asks Redis once per process (a script), then cached
            self._max_unpack_size = await asyncio.to_thread(compat.max_unpack_size, broker)
        queue_name, message = compat.message_for_enqueue(message, delay)
        broker.emit_before("enqueue", message, delay)
        keys, args = compat.dispatch_call(
            broker,
            "enqueue",
            queue_name,
            compat.redis_message_id(message),
            message.encode(),
            unpack_size=self._max_unpack_size,
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            await self._dispatch(keys=keys, args=args, client=pipe)
            if delay is None:  # a message due now wakes an idle consumer (jobs.plumbing.wakeup)
                push_wake_token(pipe, message.queue_name)
            await pipe.execute()
        broker.emit_after("enqueue", message, delay)
        return message
