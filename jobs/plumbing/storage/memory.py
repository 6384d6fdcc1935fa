"""An in-process storage double for fast unit tests of pipelines (like httpx's ``MockTransport``).

Same semantics as the real backends: keys validated, ``ObjectNotFound`` for missing
keys, S3-style string prefixes, sorted listings, ``StorageError`` after ``close()``.
Not for production: nothing is persisted and nothing is shared between processes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from jobs.contract.errors import ObjectNotFound, StorageError
from jobs.plumbing.storage.base import ObjectInfo, Write, validate_key, validate_prefix, write_each


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    etag: str
    content_type: str | None
    modified: float = field(default_factory=time.time)


class MemoryStorage:
    """A dict of ``key → StoredObject``. ``objects`` is public so tests can inspect it."""

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryStorage({len(self.objects)} objects)"

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        self._check_open()
        validate_key(key)
        blob = bytes(data)
        etag = hashlib.md5(blob, usedforsecurity=False).hexdigest()
        self.objects[key] = StoredObject(blob, etag, content_type)

    async def get(self, key: str) -> bytes:
        return self._lookup(key).data

    async def head(self, key: str) -> ObjectInfo | None:
        self._check_open()
        obj = self.objects.get(validate_key(key))
        return None if obj is None else ObjectInfo(key, len(obj.data), obj.etag)

    async def delete(self, key: str) -> None:
        self._check_open()
        self.objects.pop(validate_key(key), None)

    async def delete_prefix(self, prefix: str) -> int:
        self._check_open()
        validate_prefix(prefix, allow_empty=False)
        doomed = [key for key in self.objects if key.startswith(prefix)]
        for key in doomed:
            del self.objects[key]
        return len(doomed)

    async def list(self, prefix: str) -> list[ObjectInfo]:
        self._check_open()
        validate_prefix(prefix)
        return [
            ObjectInfo(key, len(obj.data), obj.etag)
            for key, obj in sorted(self.objects.items())
            if key.startswith(prefix)
        ]

    async def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for info in await self.list(prefix):
            yield replace(info, modified=self.objects[info.key].modified)

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        self._check_open()
        validate_key(dst)
        source = self._lookup(src)
        self.objects[dst] = replace(
            source, content_type=content_type or source.content_type, modified=time.time()
        )

    async def write_many(self, writes: Sequence[Write]) -> None:
        await write_each(self, writes)

    async def close(self) -> None:
        self._closed = True

    def _lookup(self, key: str) -> StoredObject:
        self._check_open()
        try:
            return self.objects[validate_key(key)]
        except KeyError:
            raise ObjectNotFound(f"no object at {key!r}", key=key) from None

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")
