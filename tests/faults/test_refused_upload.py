"""The race a busy machine exposed: Redis dies between the blocklist check and the record.

The API staged the original in between (a storage write, slow under load); the record then
cannot be written and the upload is answered 503. Here Redis is SIGKILLed from inside that
write, on a real redis-server with the production durability (AOF, fsync always): once
Redis is back, nothing of the refused upload is left, in storage or in Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from jobs.contract.constants import account_images_key
from jobs.contract.errors import Unavailable
from jobs.contract.settings import Settings
from jobs.services.intake import UploadOptions
from jobs.services.producer import Producer
from tests.support.images import oriented_jpeg
from tests.support.servers import RedisServer


async def test_redis_dying_while_the_original_is_staged_leaves_nothing_behind(
    make_settings: Callable[..., Settings], persistent_redis: RedisServer, tmp_path: Path
) -> None:
    settings = make_settings(redis_url=persistent_redis.url, storage_url=f"file://{tmp_path / 'store'}")

    async def scenario() -> tuple[list[str], list[str], list[bytes]]:
        producer = await Producer.open(settings)
        put = producer.storage.put

        async def put_then_crash(key: str, data: bytes, *, content_type: str | None = None) -> None:
            await put(key, data, content_type=content_type)
            if key.startswith("originals/"):
                await asyncio.to_thread(persistent_redis.stop, hard=True)

        try:
            producer.storage.put = put_then_crash  # type: ignore[method-assign]
            with pytest.raises(Unavailable):
                await producer.upload("acme", oriented_jpeg(16, 16, 1), UploadOptions())
            staged = [o.key async for o in producer.storage.scan("")]
            await asyncio.to_thread(persistent_redis.start)
            async with asyncio.timeout(60):
                await producer.rollbacks.wait()
            left = [o.key async for o in producer.storage.scan("")]
        finally:
            await producer.close()
        redis = Redis.from_url(settings.redis_url)
        try:
            listed = cast(list[bytes], await redis.zrange(account_images_key("acme"), 0, -1))
        finally:
            await redis.aclose()
        return staged, left, listed

    staged, left, listed = await scenario()
    assert [key.split("/")[0] for key in staged] in ([], ["originals"])  # removed now, or once Redis is back
    assert left == [] and listed == []
