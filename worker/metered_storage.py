"""A :class:`Storage` wrapper that counts the bytes jobs read and write (``darkroom_bytes_*``).

The job kind comes from the log context the runner binds around every job (``job``), so
counting needs no change to any pipeline. Staging a fetched source URL under
``originals/`` counts as input, like reading staged bytes; every other write is output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

import structlog

from jobs.contract.constants import original_key
from jobs.plumbing.storage import ObjectInfo, Put, Storage, Write

Count = Callable[[str, str, int], None]  # (direction "in" | "out", job kind, bytes)
ORIGINALS_PREFIX = original_key("")


def current_kind() -> str:
    return str(structlog.contextvars.get_contextvars().get("job") or "none")


class MeteredStorage:
    def __init__(self, inner: Storage, count: Count) -> None:
        self.inner = inner
        self.count = count

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        await self.inner.put(key, data, content_type=content_type)
        self._count_written(key, data)

    async def get(self, key: str) -> bytes:
        data = await self.inner.get(key)
        self.count("in", current_kind(), len(data))
        return data

    async def head(self, key: str) -> ObjectInfo | None:
        return await self.inner.head(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def delete_prefix(self, prefix: str) -> int:
        return await self.inner.delete_prefix(prefix)

    async def list(self, prefix: str) -> list[ObjectInfo]:
        return await self.inner.list(prefix)

    def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        return self.inner.scan(prefix)

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        await self.inner.copy(src, dst, content_type=content_type)  # no bytes pass through us

    async def write_many(self, writes: Sequence[Write]) -> None:
        await self.inner.write_many(writes)
        for write in writes:
            if isinstance(write, Put):  # a copy moves no bytes through us
                self._count_written(write.key, write.data)

    def _count_written(self, key: str, data: bytes) -> None:
        """Staging an original counts as input (a fetched source URL); every other write is output."""
        self.count("in" if key.startswith(ORIGINALS_PREFIX) else "out", current_kind(), len(data))

    async def close(self) -> None:
        await self.inner.close()
