"""Helpers for the storage tests: run a scenario against a storage opened on a fresh event loop.

Most storage tests are ``async def`` (anyio's pytest plugin) on a ``storage`` fixture opened on
the test's own loop. :func:`run_scenario` is for the sync S3 tests that open a backend with
settings of their own: it opens it *inside* ``asyncio.run`` (the S3 client must belong to the
loop that uses it), awaits the scenario and closes the backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

from jobs.contract.settings import Settings
from jobs.plumbing.storage.base import Storage

T = TypeVar("T")
Opener: TypeAlias = Callable[[], Awaitable[Storage]]


def run_scenario(opener: Opener, scenario: Callable[[Storage], Awaitable[T]]) -> T:
    async def main() -> T:
        storage = await opener()
        try:
            return await scenario(storage)
        finally:
            await storage.close()

    return asyncio.run(main())


def s3_settings(endpoint_url: str, bucket: str, prefix: str = "darkroom") -> Settings:
    """Settings for S3 storage without the Redis fixture (S3-only tests need no Redis)."""
    url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    return Settings(storage_url=url, s3_endpoint_url=endpoint_url, s3_region="us-east-1")
