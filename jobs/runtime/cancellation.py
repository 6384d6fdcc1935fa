"""Cancellation that survives libraries which lose it.

On Python 3.11, ``asyncio.wait_for()`` returns normally when a cancel lands just as its inner
awaitable completes (CPython gh-86296, fixed in 3.12). redis-py writes through ``wait_for``
whenever a socket timeout is set, which redis-py 8 does by default, so ``task.cancel()`` on
a task inside a Redis command is sometimes silently dropped. The task still *knows* it was
asked to stop (``Task.cancelling()``), so every long-running loop calls
:func:`raise_if_cancelled` after its awaited work: a worker shutting down cancels its
heartbeat, scheduler and event-hub tasks and they stop, whatever they were awaiting.
Darkroom's own code never calls ``wait_for`` (ruff bans it): ``asyncio.timeout`` is exact.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if the current task was cancelled and something swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
