"""Translate ``OSError`` into Darkroom's error tree (local directory backend).

=====================================================  ==================================
errno                                                  raised
=====================================================  ==================================
ENOENT, ENOTDIR, EISDIR (reading)                      ``ObjectNotFound``
ENOTDIR, EISDIR, EEXIST (writing: file/dir clash)      ``StorageError``
ENAMETOOLONG                                           ``InvalidRequest``
ENOSPC, EDQUOT, EIO, EAGAIN, EBUSY, EINTR, EMFILE,     ``StorageUnavailable`` (transient:
ENFILE, ENOMEM, ENOBUFS, ETIMEDOUT, ESTALE, ENOLCK,    space can be freed, a flaky disk
ENOENT (writing, after retries)                        or NFS mount can come back)
EACCES, EPERM, EROFS, ELOOP and anything else          ``StorageError`` (permanent)
=====================================================  ==================================
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Final

from jobs.contract.errors import (
    DarkroomError,
    InvalidRequest,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)


def _errnos(*names: str) -> frozenset[int]:
    return frozenset(getattr(errno, name) for name in names if hasattr(errno, name))


NOT_FOUND_ERRNOS: Final = _errnos("ENOENT", "ENOTDIR", "EISDIR")
_CLASH: Final = _errnos("ENOTDIR", "EISDIR", "EEXIST")
_TRANSIENT: Final = _errnos(
    "ENOSPC", "EDQUOT", "EIO", "EAGAIN", "EBUSY", "EINTR", "EMFILE", "ENFILE", "ENOMEM", "ENOBUFS",
    "ETIMEDOUT", "ESTALE", "ENOLCK",
)  # fmt: skip


def translate_os_error(exc: OSError, key: str, *, writing: bool = False) -> DarkroomError:
    """Map an ``OSError`` raised while reading or ``writing`` ``key`` to the error tree (table above)."""
    code = exc.errno
    reason = exc.strerror or type(exc).__name__
    if writing and code in _CLASH:
        return StorageError(f"cannot write {key!r}: it clashes with an existing object or directory", key=key)
    if code in NOT_FOUND_ERRNOS and not writing:
        return ObjectNotFound(f"no object at {key!r}", key=key)
    if code == errno.ENAMETOOLONG:
        return InvalidRequest(f"storage key {key[:100]!r} is too long for the filesystem", field="key")
    if code in _TRANSIENT or code == errno.ENOENT:  # ENOENT while writing: the tree vanished under us
        return StorageUnavailable(f"local storage unavailable for {key!r}: {reason}", key=key, errno=code)
    return StorageError(f"local storage refused {key!r}: {reason}", key=key, errno=code)


@contextlib.contextmanager
def translated(key: str, *, writing: bool = False) -> Iterator[None]:
    """Re-raise any ``OSError`` in the block as :func:`translate_os_error` says."""
    try:
        yield
    except OSError as exc:
        raise translate_os_error(exc, key, writing=writing) from exc
