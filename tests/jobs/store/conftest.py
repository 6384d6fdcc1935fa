from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis

from jobs.storage.memory import MemoryStorage
from jobs.store import ImageStore


@pytest.fixture
def run_with_store(redis_url: str) -> Callable[..., Any]:
    """Run ``fn(store, storage)`` on a fresh event loop with a real Redis and a memory storage."""
    import asyncio

    def runner(fn: Callable[[ImageStore, MemoryStorage], Coroutine[Any, Any, Any]]) -> Any:
        async def main() -> Any:
            redis = Redis.from_url(redis_url)
            storage = MemoryStorage()
            try:
                return await fn(ImageStore(redis, storage), storage)
            finally:
                await redis.aclose()

        return asyncio.run(main())

    return runner
