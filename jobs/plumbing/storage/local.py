"""Storage in a local directory: ``{root}/{key}``, same keys as S3 (docs/design.md §7).

* Blocking file I/O runs in a thread (``asyncio.to_thread``), never on the event loop.
* Writes are atomic and, with ``fsync`` (``STORAGE_FSYNC``, the default), durable: temp
  file, fdatasync, rename, directory fsync (:mod:`jobs.plumbing.storage.atomic_files`). Big objects
  are written and read around the page cache (:mod:`jobs.plumbing.storage.direct_io`).
* ``copy`` hard-links the source (no bytes copied, no fsync of data already durable) and
  falls back to copying the bytes where the filesystem cannot link.
* ``write_many`` does a whole batch in one thread and fsyncs each directory once.
* Directories are created on demand; deleting an object prunes its parent
  directories once they are empty, never ``root`` itself or anything above it.
* A file ``a`` and a file ``a/b`` cannot coexist on disk (they can on S3): writing
  one while the other exists is a ``StorageError``. Darkroom's layout never does it.
* ``content_type`` is not stored: HTTP serving guesses it from the extension.

``OSError`` is translated by :func:`jobs.plumbing.storage.local_errors.translate_os_error`.
"""

from __future__ import annotations

import asyncio
import builtins
import itertools
import os
import stat
from collections.abc import AsyncIterator, Generator, Sequence
from pathlib import Path

from jobs.contract.errors import StorageError
from jobs.plumbing.storage import direct_io
from jobs.plumbing.storage.atomic_files import AtomicFiles
from jobs.plumbing.storage.base import (
    Copy,
    ObjectInfo,
    Put,
    Write,
    is_valid_key,
    validate_key,
    validate_prefix,
)
from jobs.plumbing.storage.local_errors import NOT_FOUND_ERRNOS, translate_os_error, translated

SCAN_PAGE = 1000


def _etag(st: os.stat_result) -> str:
    # A new inode per write (temp + rename) makes consecutive versions differ even within one mtime tick.
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalStorage:
    """Objects as files under ``root`` (created on first write)."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.files = AtomicFiles(fsync=fsync)  # fsync=False: still atomic, not flushed per write
        self._closed = False

    @property
    def fsync(self) -> bool:
        return self.files.fsync

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

    async def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Pages of ``SCAN_PAGE`` objects read in a thread; the walk holds one open directory
        per level, never a directory's whole listing (``images/`` has one entry per image)."""
        self._check_open()
        validate_prefix(prefix)
        files = self._objects(prefix)
        try:
            while page := await asyncio.to_thread(builtins.list, itertools.islice(files, SCAN_PAGE)):
                for info in page:
                    yield info
        finally:
            files.close()

    async def copy(self, src: str, dst: str, *, content_type: str | None = None) -> None:
        src_path, dst_path = self._path(src), self._path(dst)
        await asyncio.to_thread(self._copy_sync, src, src_path, dst, dst_path)

    async def write_many(self, writes: Sequence[Write]) -> None:
        batch = [(w, self._path(w.key), self._path(w.src) if isinstance(w, Copy) else None) for w in writes]
        await asyncio.to_thread(self._write_many_sync, batch)

    async def close(self) -> None:
        self._closed = True

    # --- blocking halves (run in a worker thread) ------------------------------------------------

    def _put_sync(self, key: str, path: Path, data: bytes, *, sync_dir: bool = True) -> None:
        with translated(key, writing=True):
            self.files.write(path, data, sync_dir=sync_dir)

    def _write_many_sync(self, batch: builtins.list[tuple[Write, Path, Path | None]]) -> None:
        written: set[Path] = set()  # their directories are fsynced once, even if a later write fails
        try:
            for write, path, src_path in batch:
                if isinstance(write, Put):
                    self._put_sync(write.key, path, write.data, sync_dir=False)
                else:
                    assert src_path is not None
                    self._copy_sync(write.src, src_path, write.key, path, sync_dir=False)
                written.add(path.parent)
        finally:
            self.files.sync_dirs(written)

    def _get_sync(self, key: str, path: Path) -> bytes:
        with translated(key):
            if self.files.direct:  # big objects were written around the page cache: read them so too
                try:
                    data = direct_io.read_direct(path)
                except direct_io.DirectIORefused:
                    self.files.direct = False
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
        return sorted(self._objects(prefix), key=lambda info: info.key)

    def _objects(self, prefix: str) -> Generator[ObjectInfo, None, None]:
        """Every object under ``prefix``, in directory order, walked lazily."""
        head, _, stem = prefix.rpartition("/")
        return self._scan_sync(self.root / head if head else self.root, f"{head}/" if head else "", stem)

    def _copy_sync(
        self, src: str, src_path: Path, dst: str, dst_path: Path, *, sync_dir: bool = True
    ) -> None:
        """A hard link where the filesystem allows (no bytes copied), else a byte copy.

        Both are atomic (a temp name, then ``os.replace``). A link is still a copy here:
        nothing is ever written in place, so a later ``put`` of either key gives that key a
        new inode and leaves the other as it was.
        """
        with translated(dst, writing=True):
            if self.files.link(src_path, dst_path, sync_dir=sync_dir):
                return
            self._prune(dst_path.parent)  # made for the link, maybe: no empty directory stays
        with translated(src), open(src_path, "rb") as source, translated(dst, writing=True):
            self.files.write_from(dst_path, source, sync_dir=sync_dir)

    # --- helpers --------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        self._check_open()
        return self.path_for(key)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")

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

    def _scan_sync(self, directory: Path, key_prefix: str, stem: str) -> Generator[ObjectInfo, None, None]:
        try:
            entries = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise translate_os_error(exc, key_prefix or "/") from exc
        with entries:
            for entry in entries:
                if not entry.name.startswith(stem) or not is_valid_key(entry.name):
                    continue  # outside the prefix, or a temp/foreign file
                key = key_prefix + entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        yield from self._scan_sync(Path(entry.path), f"{key}/", "")
                    elif entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        yield ObjectInfo(key, st.st_size, _etag(st), st.st_mtime)
                except FileNotFoundError:
                    continue  # removed while we were listing
