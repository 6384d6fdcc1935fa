"""Object storage: one small protocol, one module per backend (like Dramatiq's brokers).

``open_storage(settings)`` picks the backend from ``settings.storage_url``:
``file://PATH`` → :class:`~jobs.plumbing.storage.local.LocalStorage`,
``s3://bucket/prefix`` → :class:`~jobs.plumbing.storage.s3.S3Storage`.
:class:`~jobs.plumbing.storage.memory.MemoryStorage` is the in-process double for unit tests.
Backend modules are imported lazily, so using local storage never imports aioboto3.
"""

from __future__ import annotations

from jobs.contract.errors import ConfigError
from jobs.contract.settings import Settings
from jobs.plumbing.storage.base import Copy, ObjectInfo, Put, Storage, Write, validate_key

__all__ = ["Copy", "ObjectInfo", "Put", "Storage", "Write", "open_storage", "validate_key"]


async def open_storage(settings: Settings) -> Storage:
    """Open the configured backend. Call it inside the event loop that will use the storage
    (the S3 client's connection pool is bound to that loop) and ``await storage.close()`` when done.
    """
    scheme = settings.storage_scheme
    if scheme == "file":
        from jobs.plumbing.storage.local import LocalStorage

        return LocalStorage(settings.local_storage_root, fsync=settings.storage_fsync)
    if scheme == "s3":
        from jobs.plumbing.storage.s3 import S3Storage

        return await S3Storage.from_settings(settings)
    raise ConfigError("DARKROOM_STORAGE_URL", f"unsupported storage URL scheme {scheme!r}")
