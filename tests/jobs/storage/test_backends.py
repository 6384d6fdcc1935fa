"""The storage contract, run over every backend.

``TestRealBackends`` uses the shared ``storage_settings`` fixture (a local directory, and S3
through moto's HTTP server); ``TestMemoryBackend`` runs the very same tests on the in-process
double, so pipeline unit tests built on it can be trusted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from jobs.contract.errors import ConfigError, InvalidRequest, ObjectNotFound, StorageError
from jobs.contract.settings import Settings
from jobs.plumbing.storage import Copy, ObjectInfo, Put, Storage, open_storage
from jobs.plumbing.storage.local import LocalStorage
from jobs.plumbing.storage.memory import MemoryStorage
from jobs.plumbing.storage.s3 import S3Storage

TRAVERSAL_KEYS = [
    "../x",
    "/etc/passwd",
    "a//b",
    "a/./b",
    "a\\b",
    "images/../../etc/passwd",
    "a/..",
    "",
    "a\x00b",
    "x" * 1025,
]


class Contract:
    """Every backend must pass these. Subclasses provide the ``storage`` fixture (closed after)."""

    @pytest.fixture
    def storage(self) -> Storage:
        raise NotImplementedError

    async def test_round_trip_of_binary_data(self, storage: Storage, payload: bytes) -> None:
        await storage.put("images/image_1/master.jpg", payload, content_type="image/jpeg")
        await storage.put("originals/empty", b"")
        assert await storage.get("images/image_1/master.jpg") == payload
        assert await storage.get("originals/empty") == b""

    async def test_overwrite_replaces_value_size_and_etag(self, storage: Storage) -> None:
        await storage.put("records/image_1.json", b'{"version": 1}')
        first = await storage.head("records/image_1.json")
        await storage.put("records/image_1.json", b'{"version": 22}')
        second = await storage.head("records/image_1.json")
        await storage.put("records/image_1.json", b'{"version": 33}')  # same size, new content
        third = await storage.head("records/image_1.json")
        assert await storage.get("records/image_1.json") == b'{"version": 33}'
        assert first is not None and second is not None and third is not None
        assert (first.size, second.size, third.size) == (14, 15, 15)
        assert first.etag and second.etag and third.etag
        assert first.etag != second.etag != third.etag

    async def test_head_reports_key_size_and_etag_or_none(self, storage: Storage, payload: bytes) -> None:
        await storage.put("images/image_1/small.webp", payload)
        info = await storage.head("images/image_1/small.webp")
        assert info is not None
        assert (info.key, info.size) == ("images/image_1/small.webp", len(payload))
        assert isinstance(info.etag, str) and info.etag
        assert await storage.head("images/image_1/large.webp") is None
        assert await storage.head("nowhere/at/all") is None

    async def test_missing_key_raises_object_not_found(self, storage: Storage) -> None:
        with pytest.raises(ObjectNotFound):
            await storage.get("originals/image_missing")
        with pytest.raises(ObjectNotFound):
            await storage.get("deeply/nested/missing/key")

    async def test_a_prefix_is_not_an_object(self, storage: Storage) -> None:
        await storage.put("images/image_1/master.png", b"png")
        with pytest.raises(ObjectNotFound):
            await storage.get("images/image_1")
        assert await storage.head("images/image_1") is None
        await storage.delete("images/image_1")  # a no-op, not a recursive delete
        with pytest.raises(ObjectNotFound):
            await storage.get("images/image_1/master.png/child")
        assert await storage.get("images/image_1/master.png") == b"png"

    async def test_delete_removes_and_is_idempotent(self, storage: Storage) -> None:
        await storage.put("originals/image_1", b"bytes")
        await storage.put("originals/image_2", b"kept")
        await storage.delete("originals/image_1")
        await storage.delete("originals/image_1")
        await storage.delete("never/existed")
        assert await storage.head("originals/image_1") is None
        with pytest.raises(ObjectNotFound):
            await storage.get("originals/image_1")
        assert [o.key for o in await storage.list("")] == ["originals/image_2"]

    async def test_list_is_sorted_and_scoped_to_the_prefix(self, storage: Storage) -> None:
        keys = ["images/a/2.jpg", "images/b", "images/ab/x.jpg", "images/a/sub/3.jpg", "images/a/1.jpg", "z"]

        for n, key in enumerate(keys):  # written out of order on purpose
            await storage.put(key, b"x" * n)
        listed = await storage.list("images/a/")
        assert [o.key for o in listed] == ["images/a/1.jpg", "images/a/2.jpg", "images/a/sub/3.jpg"]
        assert [o.size for o in listed] == [4, 0, 3]
        assert all(isinstance(o, ObjectInfo) and o.etag for o in listed)
        # A prefix without "/" is a plain string prefix, as on S3.
        assert [o.key for o in await storage.list("images/a")] == [
            "images/a/1.jpg",
            "images/a/2.jpg",
            "images/a/sub/3.jpg",
            "images/ab/x.jpg",
        ]
        assert [o.key for o in await storage.list("")] == sorted(keys)
        assert await storage.list("images/c/") == []
        assert await storage.list("nothing/here/") == []

    async def test_scan_streams_what_list_returns_with_modified_times(self, storage: Storage) -> None:
        keys = ["images/a/2.jpg", "images/b", "images/ab/x.jpg", "images/a/sub/3.jpg", "images/a/1.jpg", "z"]

        before = time.time() - 5  # coarse filesystem clocks
        for n, key in enumerate(keys):
            await storage.put(key, b"x" * n)
        for prefix in ("images/a/", "images/a", "", "nothing/"):
            scanned = [o async for o in storage.scan(prefix)]
            listed = await storage.list(prefix)
            assert sorted((o.key, o.size, o.etag) for o in scanned) == [
                (o.key, o.size, o.etag) for o in listed
            ]
            assert all(o.modified is not None and before <= o.modified <= time.time() + 5 for o in scanned)

    async def test_delete_prefix_counts_and_removes_only_the_prefix(self, storage: Storage) -> None:
        for key in ["derived/a/1.jpg", "derived/a/2.jpg", "derived/a/deep/3.jpg", "derived/ab/4.jpg"]:
            await storage.put(key, b"d")
        await storage.put("derived/a.json", b"sibling")
        assert await storage.delete_prefix("derived/a/") == 3
        assert [o.key for o in await storage.list("")] == ["derived/a.json", "derived/ab/4.jpg"]
        assert await storage.delete_prefix("derived/a/") == 0
        assert await storage.delete_prefix("missing/") == 0
        with pytest.raises(InvalidRequest):
            await storage.delete_prefix("")  # never "delete the whole store" by accident

    async def test_delete_prefix_of_many_objects(self, storage: Storage) -> None:
        await asyncio.gather(*(storage.put(f"derived/img/{n:04d}.webp", b"w") for n in range(50)))
        await storage.put("derived/other/keep.webp", b"k")
        assert len(await storage.list("derived/img/")) == 50
        assert await storage.delete_prefix("derived/img/") == 50
        assert [o.key for o in await storage.list("derived/")] == ["derived/other/keep.webp"]

    async def test_copy(self, storage: Storage, payload: bytes) -> None:
        await storage.put("images/image_1/master.jpg", payload)
        await storage.put("public/image_1/master.jpg", b"stale")
        await storage.copy("images/image_1/master.jpg", "public/image_1/master.jpg")
        await storage.copy("images/image_1/master.jpg", "public/image_1/copies/again.jpg")
        assert await storage.get("public/image_1/master.jpg") == payload
        assert await storage.get("public/image_1/copies/again.jpg") == payload
        await storage.put("images/image_1/master.jpg", b"changed later")
        assert await storage.get("public/image_1/master.jpg") == payload  # a copy, not a link
        with pytest.raises(ObjectNotFound):
            await storage.copy("images/missing/master.jpg", "public/missing/master.jpg")
        assert await storage.head("public/missing/master.jpg") is None

    async def test_write_many_stores_a_batch_of_puts_and_copies(
        self, storage: Storage, payload: bytes
    ) -> None:
        await storage.put("originals/image_1", payload)
        await storage.write_many(
            [
                Copy("originals/image_1", "images/image_1/master.jpg", "image/jpeg"),
                Put("images/image_1/small.jpg", b"small", "image/jpeg"),
                Put("images/image_1/large.jpg", b"large"),
                Put("records/image_1.json", b"{}", "application/json"),
            ]
        )
        assert await storage.get("images/image_1/master.jpg") == payload
        assert await storage.get("images/image_1/small.jpg") == b"small"
        assert await storage.get("images/image_1/large.jpg") == b"large"
        assert await storage.get("records/image_1.json") == b"{}"
        await storage.put("originals/image_1", b"changed later")
        assert await storage.get("images/image_1/master.jpg") == payload  # a copy, not a link
        await storage.write_many([])
        with pytest.raises(ObjectNotFound):
            await storage.write_many([Copy("originals/missing", "images/missing/master.jpg")])
        assert await storage.head("images/missing/master.jpg") is None
        assert len(await storage.list("")) == 5

    async def test_bad_keys_are_rejected_before_touching_anything(self, storage: Storage) -> None:
        def attempts(storage: Storage, bad: str) -> dict[str, Coroutine[Any, Any, object]]:
            calls: dict[str, Coroutine[Any, Any, object]] = {
                "put": storage.put(bad, b"evil"),
                "get": storage.get(bad),
                "head": storage.head(bad),
                "delete": storage.delete(bad),
                "delete_prefix": storage.delete_prefix(bad),
                "copy-to": storage.copy("originals/image_1", bad),
                "copy-from": storage.copy(bad, "originals/image_2"),
                "write_many-put": storage.write_many([Put(bad, b"evil")]),
                "write_many-copy-to": storage.write_many([Copy("originals/image_1", bad)]),
                "write_many-copy-from": storage.write_many([Copy(bad, "originals/image_2")]),
            }
            if bad:  # "" is the whole store for list
                calls["list"] = storage.list(bad)
            return calls

        await storage.put("originals/image_1", b"ok")
        escaped = []
        for bad in TRAVERSAL_KEYS:
            for operation, call in attempts(storage, bad).items():
                try:
                    await call
                except InvalidRequest:
                    continue
                except Exception as exc:
                    escaped.append(f"{operation}({bad!r}) raised {exc!r}")
                else:
                    escaped.append(f"{operation}({bad!r}) succeeded")
        assert [o.key for o in await storage.list("")] == ["originals/image_1"]
        assert escaped == []

    async def test_accepts_every_well_formed_key(self, storage: Storage) -> None:
        long_key = "/".join(["s" * 255] * 3) + "/" + "k" * 200  # 968 characters: fits S3 with its prefix
        keys = ["a", "A-Z_a.z-0.9", "..x/.hidden/x..", "t" * 255, long_key]

        for key in keys:
            await storage.put(key, key.encode())
        for key in keys:
            assert await storage.get(key) == key.encode()
        assert [o.key for o in await storage.list("")] == sorted(keys)

    async def test_concurrent_puts_of_one_key_leave_one_complete_value(self, storage: Storage) -> None:
        values = [bytes([n]) * (256 * 1024 + n) for n in range(12)]

        await asyncio.gather(*(storage.put("images/image_1/master.jpg", v) for v in values))
        assert await storage.get("images/image_1/master.jpg") in values
        assert [o.key for o in await storage.list("")] == ["images/image_1/master.jpg"]

    async def test_closed_storage_refuses_work(self, storage: Storage) -> None:
        await storage.put("originals/image_1", b"x")
        await storage.close()
        await storage.close()  # idempotent
        with pytest.raises(StorageError):
            await storage.get("originals/image_1")
        with pytest.raises(StorageError):
            await storage.put("originals/image_2", b"x")
        with pytest.raises(StorageError):
            await storage.list("")
        with pytest.raises(StorageError):
            await storage.write_many([Put("originals/image_3", b"x")])
        # the fixture's own close() at teardown must be harmless too


class TestRealBackends(Contract):
    """Local directory and S3 (moto server over HTTP), via the shared ``storage_settings``."""

    @pytest.fixture
    async def storage(self, storage_settings: Settings) -> AsyncIterator[Storage]:
        """Opened on the test's event loop (the S3 client must belong to the loop that uses it)."""
        storage = await open_storage(storage_settings)
        try:
            yield storage
        finally:
            await storage.close()

    async def test_open_storage_picks_the_configured_backend(
        self, storage: Storage, storage_settings: Settings
    ) -> None:
        assert isinstance(storage, Storage)
        if storage_settings.storage_scheme == "file":
            assert isinstance(storage, LocalStorage)
            assert storage.root == storage_settings.local_storage_root
        else:
            assert isinstance(storage, S3Storage)
            assert (storage.bucket, storage.prefix) == storage_settings.s3_bucket_and_prefix


class TestMemoryBackend(Contract):
    @pytest.fixture
    async def storage(self) -> AsyncIterator[Storage]:
        storage = MemoryStorage()
        try:
            yield storage
        finally:
            await storage.close()

    def test_is_a_storage(self) -> None:
        assert isinstance(MemoryStorage(), Storage)


async def test_open_storage_rejects_unknown_schemes() -> None:
    settings = Settings.model_construct(storage_url="ftp://example.com/x")  # bypasses the validator
    with pytest.raises(ConfigError):
        await open_storage(settings)
