"""Fixtures for the store tests: an ``ImageStore`` on the private Redis over a memory storage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from jobs.plumbing.storage.memory import MemoryStorage
from jobs.plumbing.store import ImageStore


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
async def store(redis_url: str, storage: MemoryStorage) -> AsyncIterator[ImageStore]:
    """A real ``ImageStore`` (the private redis-server, flushed) on the test's event loop."""
    redis = Redis.from_url(redis_url)
    try:
        yield ImageStore(redis, storage)
    finally:
        await redis.aclose()
