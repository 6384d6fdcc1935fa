"""The storage contract: one small protocol, one record type, one key validator.

Backends (``local``, ``s3``, ``memory``) implement :class:`Storage` with identical
semantics and translate their library's exceptions into ``jobs.contract.errors``:
``ObjectNotFound`` (missing key), ``InvalidRequest`` (bad key), ``StorageUnavailable``
(transient, retry later) and ``StorageError`` (permanent).

Keys are relative ``/``-separated paths (docs/design.md §7) such as ``images/{id}/master.jpg``.
Prefixes follow S3 semantics: a plain string prefix of the key, so ``images/a/``
matches ``images/a/x`` but not ``images/ab/x``, while ``images/a`` matches both.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from jobs.contract.errors import InvalidRequest

MAX_KEY_LENGTH: Final = 1024
# One path component must fit a file name on every common filesystem (NAME_MAX).
MAX_SEGMENT_LENGTH: Final = 255
_SEGMENT: Final = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What ``head``/``list`` know about a stored object.

    ``etag`` is an opaque, backend-specific version tag: it changes when the object
    is overwritten. Compare it only with etags from the same backend. ``modified``: when it
    was last written (Unix time), where the backend's listing tells (``scan`` always does).
    """

    key: str
    size: int
    etag: str | None
    modified: float | None = None


@dataclass(frozen=True, slots=True)
class Put:
    """One ``put`` of a :meth:`Storage.write_many` batch."""

    key: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    """One ``copy`` of a :meth:`Storage.write_many` batch: ``src`` to ``key``."""

    src: str
    key: str
    content_type: str | None = None


Write = Put | Copy


@runtime_checkable
class Storage(Protocol):
    """Object storage as Darkroom uses it. Every method validates its keys first."""

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old or the new value, never a mix."""
        ...

    async def get(self, key: str) -> bytes:
        """The object's bytes; ``ObjectNotFound`` when missing."""
        ...

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size and etag, or ``None`` when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix`` (non-empty); returns how many were removed."""
        ...

    async def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object under ``prefix`` (``""`` = the whole store), sorted by key."""
        ...

    def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object under ``prefix`` with its ``modified`` time, streamed in no set order:
        memory stays bounded however many objects there are (``darkroom fsck``)."""
        ...

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        """Copy ``src`` to ``dst`` (server-side where possible); ``ObjectNotFound`` if ``src`` is missing.

        Atomic like ``put``, and a copy: writing ``src`` later leaves ``dst`` as it was.
        ``content_type``: the copy's (default: the source's).
        """
        ...

    async def write_many(self, writes: Sequence[Write]) -> None:
        """Several ``put``/``copy`` at once (e.g. a job's outputs): each is atomic like ``put``,
        the batch is not. Raises the first error; the others may be stored by then.

        The local backend does a batch in one thread and makes each directory durable once.
        """
        ...

    async def close(self) -> None:
        """Release connections. Idempotent; any later call raises ``StorageError``."""
        ...


async def write_each(storage: Storage, writes: Sequence[Write]) -> None:
    """``write_many`` as concurrent single calls, for backends where a batch saves nothing."""
    await asyncio.gather(
        *(
            storage.put(w.key, w.data, content_type=w.content_type)
            if isinstance(w, Put)
            else storage.copy(w.src, w.key, content_type=w.content_type)
            for w in writes
        )
    )


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe object key, else raise ``InvalidRequest``.

    A key is 1-1024 characters of ``/``-separated segments, each made of
    ``[A-Za-z0-9._-]`` (at most 255 characters), never ``.`` or ``..``. So no
    leading ``/``, no ``//``, no backslash, no NUL: an id can never traverse out
    of the store, on disk or in a bucket.
    """
    if not isinstance(key, str):
        raise InvalidRequest(f"storage key must be a string, not {type(key).__name__}", field="key")
    if not key:
        raise InvalidRequest("storage key is empty", field="key")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"storage key is longer than {MAX_KEY_LENGTH} characters", field="key")
    for segment in key.split("/"):
        if not _is_segment(segment):
            raise InvalidRequest(f"invalid storage key {key[:100]!r}", field="key")
    return key


def validate_prefix(prefix: str, *, allow_empty: bool = True) -> str:
    """Like :func:`validate_key`, but a trailing ``/`` is allowed, and ``""`` if ``allow_empty``."""
    if prefix == "" and allow_empty:
        return prefix
    if isinstance(prefix, str) and prefix.endswith("/"):
        validate_key(prefix[:-1])
        return prefix
    return validate_key(prefix)


def is_valid_key(key: str) -> bool:
    """``True`` if :func:`validate_key` accepts ``key`` (backends skip foreign files/objects)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(_is_segment(s) for s in key.split("/"))


def _is_segment(segment: str) -> bool:
    return (
        0 < len(segment) <= MAX_SEGMENT_LENGTH
        and segment not in {".", ".."}
        and _SEGMENT.fullmatch(segment) is not None
    )
