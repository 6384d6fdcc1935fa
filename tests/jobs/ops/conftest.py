"""Fixtures for the ops readers: a real Redis, a memory storage, records in known states."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from jobs.plumbing.storage.memory import MemoryStorage
from jobs.plumbing.store import ImageStore
from tests.support.records import Env


@pytest.fixture
async def env(redis_url: str) -> AsyncIterator[Env]:
    """The private redis-server (flushed), a memory storage and the store over both, on the test's loop."""
    redis = Redis.from_url(redis_url)
    storage = MemoryStorage()
    try:
        yield Env(redis, storage, ImageStore(redis, storage))
    finally:
        await redis.aclose()
