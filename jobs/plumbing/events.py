"""Fan-out of the ``darkroom:events`` transitions stream to in-process waiters.

One task per process reads the stream with ``XREAD BLOCK`` and wakes whoever waits for
that image id, so a long-poll (``GET /v1/images/{id}?wait=N``) returns as soon as the
transition is written, without polling Redis in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar, cast

import structlog
from redis.asyncio import Redis

from jobs.contract.constants import EVENTS_KEY
from jobs.contract.errors import BrokerUnavailable
from jobs.contract.states import Status
from jobs.plumbing.store import ImageStore, Record
from jobs.runtime.cancellation import raise_if_cancelled

log = structlog.get_logger(__name__)
T = TypeVar("T")

BLOCK_MS = 2_000  # below redis-py 8's default 5 s socket timeout
StreamReply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]
SAFETY_RECHECK_S = 2.0  # a waiter re-reads its record at least this often (Redis hiccups)


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="darkroom-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.contextmanager
    def subscribe(self, image_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[image_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(image_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[image_id]

    def _wake(self, image_id: str) -> None:
        for event in self._waiters.get(image_id, ()):
            event.set()

    async def _run(self) -> None:
        last_id = "$"
        failures = 0
        while True:
            try:
                reply = cast(
                    StreamReply, await self.redis.xread({EVENTS_KEY: last_id}, block=BLOCK_MS, count=500)
                )
                failures = 0
                raise_if_cancelled()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down: back off, keep waiters on their safety re-check
                failures += 1
                log.warning("event_hub.read_failed", error=str(exc), failures=failures)
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                continue
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    last_id = entry_id.decode()
                    image_id = fields.get(b"id")
                    if image_id:
                        self._wake(image_id.decode())

    async def wait_until(
        self, image_id: str, check: Callable[[], Awaitable[T | None]], timeout: float
    ) -> T | None:
        """Re-run ``check`` on every event for ``image_id`` until it returns a value (or time runs out)."""
        deadline = time.monotonic() + timeout
        with self.subscribe(image_id) as changed:
            while True:
                changed.clear()
                result = await check()
                remaining = deadline - time.monotonic()
                if result is not None or remaining <= 0:
                    return result
                with contextlib.suppress(TimeoutError, BrokerUnavailable):
                    async with asyncio.timeout(min(remaining, SAFETY_RECHECK_S)):
                        await changed.wait()

    async def wait_settled(self, store: ImageStore, account: str, image_id: str, timeout: float) -> Record:
        """The record once it is no longer ``processing``, or as it is when ``timeout`` runs out."""
        last: list[Record] = []

        async def settled() -> Record | None:
            record = await store.get(account, image_id)
            last[:] = [record]
            return record if record.status != Status.PROCESSING else None

        return await self.wait_until(image_id, settled, timeout) or last[0]
