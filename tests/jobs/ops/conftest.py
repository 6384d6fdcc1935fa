"""Fixtures for the ops readers: a real Redis, a memory storage, records in known states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis

from jobs.storage.memory import MemoryStorage
from jobs.store import ImageStore
from tests.support.records import Env, Run


@pytest.fixture
def run(redis_url: str) -> Run:
    """Run ``scenario(env)`` on a fresh event loop against the private redis-server."""

    def runner(scenario: Callable[[Env], Coroutine[Any, Any, Any]]) -> Any:
        async def main() -> Any:
            redis = Redis.from_url(redis_url)
            storage = MemoryStorage()
            try:
                return await scenario(Env(redis, storage, ImageStore(redis, storage)))
            finally:
                await redis.aclose()

        return asyncio.run(main())

    return runner
