"""Storage in a local directory: ``{root}/{key}``, same keys as S3 (DESIGN §7).

* Blocking file I/O runs in a thread (``asyncio.to_thread``), never on the event loop.
* Writes are atomic: a temp file in the target directory, written, flushed and
  fsynced, then ``os.replace``-d over the key (and the directory fsynced). A crash
  leaves the old value or the new one, never a partial file. Durable writes of 1 MiB or
  more bypass the page cache (``O_DIRECT``, :mod:`jobs.storage.direct_io`). Temp files are named
  ``.~{random}.tmp``; ``~`` cannot occur in a key, so they never collide with an
  object and never show in ``list``.
* ``copy`` hard-links the source (no bytes copied, no fsync of data already durable) and
  falls back to copying the bytes where the filesystem cannot link.
* Directories are created on demand; deleting an object prunes its parent
  directories once they are empty, never ``root`` itself or anything above it.
* A file ``a`` and a file ``a/b`` cannot coexist on disk (they can on S3): writing
  one while the other exists is a ``StorageError``. Darkroom's layout never does it.
* ``content_type`` is not stored: HTTP serving guesses it from the extension.

``OSError`` is translated by :func:`jobs.storage.local_errors.translate_os_error`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

from jobs.errors import StorageError
from jobs.storage import direct_io
from jobs.storage.base import ObjectInfo, is_valid_key, validate_key, validate_prefix
from jobs.storage.local_errors import NOT_FOUND_ERRNOS, translate_os_error, translated

_COPY_CHUNK: Final = 1024 * 1024
_OPEN_FLAGS: Final = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)
T = TypeVar("T")


# a filesystem (or mount) that cannot hard-link: fall back to copying the bytes
_NO_LINK_ERRNOS: Final = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_all(src: BinaryIO, fd: int) -> None:
    while chunk := src.read(_COPY_CHUNK):
        _write_all(fd, chunk)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; unsupported on some platforms/filesystems, hence best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_temp(path: Path, create: Callable[[Path], T]) -> tuple[Path, T]:
    """A fresh temp name next to ``path`` and ``create(temp)``'s result.

    The directory is made only when the create finds it missing: most writes go to one that
    exists, and a ``mkdir`` first would cost them two system calls for nothing.
    """
    for attempt in range(4):
        tmp = path.parent / f".~{secrets.token_hex(8)}.tmp"
        try:
            return tmp, create(tmp)
        except FileNotFoundError:
            if attempt == 3:
                raise
            # No directory yet, or a concurrent delete pruned it since: (re)create it, try again.
            path.parent.mkdir(parents=True, exist_ok=True)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _removed_on_error(tmp: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _etag(st: os.stat_result) -> str:
    # A new inode per write (temp + rename) makes consecutive versions differ even within one mtime tick.
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalStorage:
    """Objects as files under ``root`` (created on first write)."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.fsync = fsync  # False: still atomic (temp + rename), but not flushed to disk per write
        self._direct = fsync and direct_io.available()  # until the filesystem refuses O_DIRECT
        self._closed = False

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        """The file that holds ``key`` (validated), e.g. to serve it with ``FileResponse``."""
        return self.root / validate_key(key)

    # --- Storage protocol -----------------------------------------------------------------------

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._put_sync, key, path, data)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        return await asyncio.to_thread(self._get_sync, key, path)

    async def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        return await asyncio.to_thread(self._head_sync, key, path)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._delete_sync, key, path)

    async def delete_prefix(self, prefix: str) -> int:
        self._check_open()
        validate_prefix(prefix, allow_empty=False)
        return await asyncio.to_thread(self._delete_prefix_sync, prefix)

    async def list(self, prefix: str) -> list[ObjectInfo]:
        self._check_open()
        validate_prefix(prefix)
        return await asyncio.to_thread(self._list_sync, prefix)

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        src_path, dst_path = self._path(src), self._path(dst)
        await asyncio.to_thread(self._copy_sync, src, src_path, dst, dst_path)

    async def close(self) -> None:
        self._closed = True

    # --- blocking halves (run in a worker thread) ------------------------------------------------

    def _put_sync(self, key: str, path: Path, data: bytes) -> None:
        with translated(key, writing=True):
            direct = self._direct and direct_io.wanted(len(data))
            self._write_atomic(path, lambda fd: _write_all(fd, data), direct=data if direct else None)

    def _get_sync(self, key: str, path: Path) -> bytes:
        with translated(key):
            if self._direct:  # big objects were written around the page cache: read them so too
                try:
                    data = direct_io.read_direct(path)
                except direct_io.DirectIORefused:
                    self._direct = False
                else:
                    if data is not None:
                        return data
            return path.read_bytes()

    def _head_sync(self, key: str, path: Path) -> ObjectInfo | None:
        try:
            st = path.stat()
        except OSError as exc:
            if exc.errno in NOT_FOUND_ERRNOS:
                return None
            raise translate_os_error(exc, key) from exc
        return ObjectInfo(key, st.st_size, _etag(st)) if stat.S_ISREG(st.st_mode) else None

    def _delete_sync(self, key: str, path: Path) -> None:
        if self._unlink(key, path):
            self._prune(path.parent)

    def _delete_prefix_sync(self, prefix: str) -> int:
        removed = 0
        parents: set[Path] = set()
        for info in self._list_sync(prefix):
            path = self.root / info.key
            if self._unlink(info.key, path):
                removed += 1
                parents.add(path.parent)
        for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            self._prune(directory)
        return removed

    def _list_sync(self, prefix: str) -> builtins.list[ObjectInfo]:
        head, _, stem = prefix.rpartition("/")
        found: builtins.list[ObjectInfo] = []
        self._walk(self.root / head if head else self.root, f"{head}/" if head else "", stem, found)
        found.sort(key=lambda info: info.key)
        return found

    def _copy_sync(self, src: str, src_path: Path, dst: str, dst_path: Path) -> None:
        """A hard link where the filesystem allows (no bytes copied), else a byte copy.

        Both are atomic (a temp name, then ``os.replace``). A link is still a copy here:
        nothing is ever written in place, so a later ``put`` of either key gives that key a
        new inode and leaves the other as it was.
        """
        with translated(dst, writing=True):
            if self._link_atomic(src_path, dst_path):
                return
        with translated(src), open(src_path, "rb") as source, translated(dst, writing=True):
            self._write_atomic(dst_path, lambda fd: _copy_all(source, fd))

    # --- helpers --------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        self._check_open()
        return self.path_for(key)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")

    def _open_temp(self, tmp: Path, direct: bool) -> tuple[int, bool]:
        """The temp file's descriptor, and whether it was opened with ``O_DIRECT``."""
        if direct and self._direct:
            try:
                return os.open(tmp, _OPEN_FLAGS | direct_io.O_DIRECT, 0o666), True
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: this filesystem does not do O_DIRECT
                    raise
                self._direct = False
        return os.open(tmp, _OPEN_FLAGS, 0o666), False

    def _write_atomic(self, path: Path, fill: Callable[[int], None], *, direct: bytes | None = None) -> None:
        """``fill`` writes the temp file; ``direct``: the same bytes, to be written with ``O_DIRECT``
        instead where the filesystem takes it."""
        tmp, (fd, is_direct) = _new_temp(path, lambda t: self._open_temp(t, direct is not None))
        with _removed_on_error(tmp):
            try:
                if direct is not None and is_direct:
                    if not direct_io.write_direct(fd, direct):
                        self._direct = False  # refused mid-way (and finished without it)
                else:
                    fill(fd)
                if self.fsync:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            self._commit(tmp, path)

    def _link_atomic(self, src_path: Path, path: Path) -> bool:
        """Link ``src_path`` at ``path``; ``False`` when linking is not possible (or no source)."""
        try:
            tmp, _ = _new_temp(path, lambda t: os.link(src_path, t, follow_symlinks=False))
        except FileNotFoundError:
            self._prune(path.parent)
            return False  # no source (or its directory keeps vanishing): the byte copy reports it
        except OSError as exc:
            if exc.errno in _NO_LINK_ERRNOS:
                return False
            raise
        with _removed_on_error(tmp):
            self._commit(tmp, path)  # the data itself was made durable when the source was written
        return True

    def _commit(self, tmp: Path, path: Path) -> None:
        """The temp file becomes the object; with ``fsync``, the rename is made durable too."""
        os.replace(tmp, path)
        if self.fsync:
            _fsync_dir(path.parent)

    def _unlink(self, key: str, path: Path) -> bool:
        """Remove the file; ``False`` if there was none (a directory is not an object)."""
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except PermissionError as exc:
            if path.is_dir():  # macOS reports EPERM for unlink() on a directory
                return False
            raise translate_os_error(exc, key, writing=True) from exc
        except OSError as exc:
            raise translate_os_error(exc, key, writing=True) from exc
        return True

    def _prune(self, directory: Path) -> None:
        """Remove ``directory`` and its ancestors while they are empty, stopping below ``root``."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return  # not empty (or already gone, or not ours to remove): stop climbing
            directory = directory.parent

    def _walk(self, directory: Path, key_prefix: str, stem: str, found: builtins.list[ObjectInfo]) -> None:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise translate_os_error(exc, key_prefix or "/") from exc
        for entry in entries:
            if not entry.name.startswith(stem) or not is_valid_key(entry.name):
                continue  # outside the prefix, or a temp/foreign file
            key = key_prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    self._walk(Path(entry.path), f"{key}/", "", found)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    found.append(ObjectInfo(key, st.st_size, _etag(st)))
            except FileNotFoundError:
                continue  # removed while we were listing
