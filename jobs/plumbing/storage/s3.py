"""S3 (or any S3-compatible store) through aioboto3, on the running event loop.

``s3://bucket/prefix`` stores key ``originals/x`` at ``prefix/originals/x``. Each object
is one ``PutObject`` (atomic by S3 semantics); ``list``/``delete_prefix`` paginate
``ListObjectsV2`` and delete with ``DeleteObjects`` in batches of ≤ 1000.

Two guards against hung endpoints: botocore's connect/read timeouts and retries
(:func:`s3_config`), plus an overall deadline per API call (``operation_timeout``),
because aiohttp does not bound every wait with ``sock_read``. In particular it waits
for ``100 Continue`` without any timeout, so we drop botocore's ``Expect: 100-continue``
header (our bodies are small; it also trips some S3-compatible servers).

Library exceptions are translated here (:mod:`jobs.plumbing.storage.s3_errors`); none leave the module.
Known limits: ``head`` cannot tell a missing bucket from a missing key (HEAD has no error
body), so it answers ``None``; ``copy`` is a single ``CopyObject`` (≤ 5 GiB).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack
from typing import Any, Final

import aioboto3
from botocore.config import Config

from jobs.contract.errors import DarkroomError, InvalidRequest, ObjectNotFound, StorageError
from jobs.contract.settings import Settings
from jobs.plumbing.storage.base import (
    ObjectInfo,
    Write,
    is_valid_key,
    validate_key,
    validate_prefix,
    write_each,
)
from jobs.plumbing.storage.s3_errors import delete_objects_error, translate_s3_error

MAX_DELETE_BATCH: Final = 1000  # DeleteObjects accepts at most 1000 keys
MAX_S3_KEY_LENGTH: Final = 1024  # bytes; our keys are ASCII, so characters


def s3_config(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    max_attempts: int = 3,
    max_pool_connections: int = 50,
) -> Any:
    """The botocore ``Config`` Darkroom uses: bounded timeouts, standard-mode retries, a wide pool.

    ``max_attempts`` counts the first try (standard mode), so ``1`` means no retry.
    """
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
    )


def _drop_expect_header(request: Any, **_: Any) -> None:
    request.headers.pop("Expect", None)  # not a signed header: safe to drop after signing


class S3Storage:
    """An open aioboto3 S3 client bound to one bucket and key prefix.

    Build it with :meth:`open` / :meth:`from_settings` *inside* the event loop that will
    use it (aiohttp's connection pool belongs to that loop); release it with :meth:`close`.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        exit_stack: AsyncExitStack | None = None,
        operation_timeout: float | None = 60.0,
        delete_batch_size: int = MAX_DELETE_BATCH,
        list_page_size: int = 1000,
    ) -> None:
        if prefix.strip("/"):
            validate_key(prefix.strip("/"))
        if not 1 <= delete_batch_size <= MAX_DELETE_BATCH:
            raise ValueError(f"delete_batch_size must be within 1..{MAX_DELETE_BATCH}")
        if not 1 <= list_page_size <= 1000:
            raise ValueError("list_page_size must be within 1..1000")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._root = f"{self.prefix}/" if self.prefix else ""
        self._client = client
        self._stack = exit_stack
        self._operation_timeout = operation_timeout
        self._delete_batch_size = delete_batch_size
        self._list_page_size = list_page_size
        self._closed = False
        client.meta.events.register("before-send.s3", _drop_expect_header)

    @classmethod
    async def open(
        cls,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: Any = None,
        session: Any = None,
        **options: Any,
    ) -> S3Storage:
        """Create the client on the running loop. ``config`` defaults to :func:`s3_config`;
        ``options`` go to the constructor (``operation_timeout``, batch and page sizes).
        """
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(
                (session or aioboto3.Session()).client(
                    "s3",
                    endpoint_url=endpoint_url,
                    region_name=region_name,
                    config=config if config is not None else s3_config(),
                )
            )
            return cls(client, bucket, prefix, exit_stack=stack, **options)
        except BaseException as exc:
            await stack.aclose()
            if isinstance(exc, ValueError):  # e.g. an invalid endpoint URL or option
                raise StorageError(f"cannot configure S3 storage for bucket {bucket!r}: {exc}") from exc
            translated = translate_s3_error(exc, bucket=bucket, key="")
            if translated is None:
                raise
            raise translated from exc

    @classmethod
    async def from_settings(cls, settings: Settings, **options: Any) -> S3Storage:
        """Open the store named by ``settings.storage_url`` (``s3://bucket/prefix``)."""
        bucket, prefix = settings.s3_bucket_and_prefix
        return await cls.open(
            bucket, prefix, endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region, **options
        )

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    @property
    def client(self) -> Any:
        """The underlying aiobotocore client (e.g. for presigned URLs); its errors are not translated."""
        return self._client

    # --- Storage protocol -----------------------------------------------------------------------

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        full = self._full_key(key)
        extra = {"ContentType": content_type} if content_type else {}
        async with self._call(key):
            await self._client.put_object(Bucket=self.bucket, Key=full, Body=data, **extra)

    async def get(self, key: str) -> bytes:
        full = self._full_key(key)
        async with self._call(key):
            response = await self._client.get_object(Bucket=self.bucket, Key=full)
            async with response["Body"] as body:
                return bytes(await body.read())

    async def head(self, key: str) -> ObjectInfo | None:
        full = self._full_key(key)
        try:
            async with self._call(key):
                response = await self._client.head_object(Bucket=self.bucket, Key=full)
        except ObjectNotFound:
            return None
        return ObjectInfo(key, int(response["ContentLength"]), _etag(response.get("ETag")))

    async def delete(self, key: str) -> None:
        full = self._full_key(key)
        async with self._call(key):
            await self._client.delete_object(Bucket=self.bucket, Key=full)

    async def delete_prefix(self, prefix: str) -> int:
        self._check_open()
        validate_prefix(prefix, allow_empty=False)
        removed = 0
        batch: builtins.list[str] = []
        async with contextlib.aclosing(self._iter(prefix)) as objects:
            async for info in objects:
                batch.append(self._root + info.key)
                if len(batch) >= self._delete_batch_size:
                    removed += await self._delete_batch(batch, prefix)
                    batch = []
        if batch:
            removed += await self._delete_batch(batch, prefix)
        return removed

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        self._check_open()
        validate_prefix(prefix)
        async with contextlib.aclosing(self._iter(prefix)) as objects:
            found = [info async for info in objects]
        found.sort(key=lambda info: info.key)
        return found

    async def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """A page (``list_page_size`` keys) in memory at a time, in key order."""
        self._check_open()
        validate_prefix(prefix)
        async with contextlib.aclosing(self._iter(prefix)) as objects:
            async for info in objects:
                yield info

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        full_src, full_dst = self._full_key(src), self._full_key(dst)
        extra: dict[str, str] = {}
        if content_type:
            extra = {"MetadataDirective": "REPLACE", "ContentType": content_type}
        async with self._call(src):
            await self._client.copy_object(
                Bucket=self.bucket, Key=full_dst, CopySource={"Bucket": self.bucket, "Key": full_src}, **extra
            )

    async def write_many(self, writes: Sequence[Write]) -> None:
        await write_each(self, writes)  # concurrent requests on the client's connection pool

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._stack is not None:
            with self._translated(""):
                await self._stack.aclose()

    # --- helpers --------------------------------------------------------------------------------

    def _full_key(self, key: str) -> str:
        self._check_open()
        full = self._root + validate_key(key)
        if len(full) > MAX_S3_KEY_LENGTH:
            raise InvalidRequest(f"storage key is too long for S3 under prefix {self.prefix!r}", field="key")
        return full

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")

    @contextlib.contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        try:
            yield
        except DarkroomError:
            raise
        except Exception as exc:
            translated = translate_s3_error(exc, bucket=self.bucket, key=key, root=self._root)
            if translated is None:
                raise
            raise translated from exc

    @contextlib.asynccontextmanager
    async def _call(self, key: str) -> AsyncIterator[None]:
        """One API call: translated errors, bounded by ``operation_timeout`` (→ ``StorageUnavailable``)."""
        with self._translated(key):
            async with asyncio.timeout(self._operation_timeout):
                yield

    async def _iter(self, prefix: str) -> AsyncGenerator[ObjectInfo, None]:
        """Every valid object under ``prefix``, page by page (S3 returns them in key order)."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=self._root + prefix,
            PaginationConfig={"PageSize": self._list_page_size},
        ).__aiter__()
        try:
            while True:
                async with self._call(prefix):
                    page = await anext(pages, None)
                if page is None:
                    return
                for item in page.get("Contents", ()):
                    key = str(item["Key"])[len(self._root) :]
                    if is_valid_key(key):
                        modified = item.get("LastModified")
                        yield ObjectInfo(
                            key,
                            int(item["Size"]),
                            _etag(item.get("ETag")),
                            modified.timestamp() if modified is not None else None,
                        )
        finally:
            if hasattr(pages, "aclose"):
                await pages.aclose()

    async def _delete_batch(self, keys: builtins.list[str], prefix: str) -> int:
        async with self._call(prefix):
            response = await self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        if errors := response.get("Errors"):  # per-key failures come back in a 200 response
            raise delete_objects_error(errors, bucket=self.bucket)
        return len(keys)


def _etag(raw: Any) -> str | None:
    """S3 quotes ETags (``"d41d8c…"``); ours are bare."""
    return str(raw).strip('"') or None if raw else None
