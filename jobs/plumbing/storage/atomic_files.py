"""Atomic file writes for local storage: temp file → write → fdatasync → rename → directory fsync.

* A write goes to a temp file in the target directory (``.~{random}.tmp``: ``~`` cannot
  occur in a key, so a temp file never collides with an object nor shows in a listing).
  It is written, flushed (``fdatasync``) and ``os.replace``-d over the target, and the
  directory is fsynced so the rename survives a crash too. A crash leaves the old value or
  the new one, never a partial file.
* Durable writes of 1 MiB or more go around the page cache (``O_DIRECT``,
  :mod:`jobs.plumbing.storage.direct_io`).
* A link is a copy that moves no bytes: a hard link under a temp name, then renamed; the
  data was made durable when the source was written.
* ``sync_dir=False`` leaves the directory fsync to the caller, who does it once for a batch
  of writes into the same directory (:meth:`AtomicFiles.sync_dirs`).
* Directories are created when a create finds them missing.
* Objects are private to the service's user and group: files are created ``0640`` and
  directories ``0750``, further narrowed by the umask (``umask 077`` → ``0600``/``0700``).
  Originals and masters are customers' images; nobody else on the host reads them.

Raises ``OSError``; callers translate it (:mod:`jobs.plumbing.storage.local_errors`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

from jobs.plumbing.storage import direct_io

_COPY_CHUNK: Final = 1024 * 1024
FILE_MODE: Final = 0o640  # before the umask: never world-readable, whatever the umask allows
DIR_MODE: Final = 0o750
_OPEN_FLAGS: Final = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)
# a filesystem (or mount) that cannot hard-link: fall back to copying the bytes
_NO_LINK_ERRNOS: Final = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}
)
T = TypeVar("T")


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_all(src: BinaryIO, fd: int) -> None:
    while chunk := src.read(_COPY_CHUNK):
        _write_all(fd, chunk)


def fsync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable; unsupported on some platforms/filesystems,
    hence best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_dirs(directory: Path) -> None:
    """``mkdir -p`` with :data:`DIR_MODE` for every directory it creates (``os.makedirs`` gives
    the intermediate ones the default ``0777``)."""
    missing: list[Path] = []
    while not directory.is_dir():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # a concurrent writer made it first
            path.mkdir(mode=DIR_MODE)


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
            make_dirs(path.parent)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _removed_on_error(tmp: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class AtomicFiles:
    """Atomic writes, links and copies of whole files; ``fsync=False``: atomic, not durable."""

    def __init__(self, *, fsync: bool = True) -> None:
        self.fsync = fsync
        self.direct = fsync and direct_io.available()  # until the filesystem refuses O_DIRECT

    def write(self, path: Path, data: bytes, *, sync_dir: bool = True) -> None:
        direct = self.direct and direct_io.wanted(len(data))
        self._write(path, lambda fd: _write_all(fd, data), direct=data if direct else None, sync_dir=sync_dir)

    def write_from(self, path: Path, source: BinaryIO, *, sync_dir: bool = True) -> None:
        self._write(path, lambda fd: _copy_all(source, fd), sync_dir=sync_dir)

    def link(self, src_path: Path, path: Path, *, sync_dir: bool = True) -> bool:
        """Link ``src_path`` at ``path``; ``False`` when linking is not possible (or no source)."""
        try:
            tmp, _ = _new_temp(path, lambda t: os.link(src_path, t, follow_symlinks=False))
        except FileNotFoundError:
            return False  # no source (or its directory keeps vanishing): the byte copy reports it
        except OSError as exc:
            if exc.errno in _NO_LINK_ERRNOS:
                return False
            raise
        with _removed_on_error(tmp):
            self._commit(tmp, path, sync_dir)  # the data was made durable when the source was written
        return True

    def sync_dirs(self, directories: Iterable[Path]) -> None:
        """The deferred directory fsyncs of writes made with ``sync_dir=False``."""
        if self.fsync:
            for directory in directories:
                fsync_dir(directory)

    def _open_temp(self, tmp: Path, direct: bool) -> tuple[int, bool]:
        """The temp file's descriptor, and whether it was opened with ``O_DIRECT``."""
        if direct and self.direct:
            try:
                return os.open(tmp, _OPEN_FLAGS | direct_io.O_DIRECT, FILE_MODE), True
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: this filesystem does not do O_DIRECT
                    raise
                self.direct = False
        return os.open(tmp, _OPEN_FLAGS, FILE_MODE), False

    def _write(
        self, path: Path, fill: Callable[[int], None], *, direct: bytes | None = None, sync_dir: bool
    ) -> None:
        """``fill`` writes the temp file; ``direct``: the same bytes, to be written with ``O_DIRECT``
        instead where the filesystem takes it."""
        tmp, (fd, is_direct) = _new_temp(path, lambda t: self._open_temp(t, direct is not None))
        with _removed_on_error(tmp):
            try:
                if direct is not None and is_direct:
                    if not direct_io.write_direct(fd, direct):
                        self.direct = False  # refused mid-way (and finished without it)
                else:
                    fill(fd)
                if self.fsync:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
            self._commit(tmp, path, sync_dir)

    def _commit(self, tmp: Path, path: Path, sync_dir: bool) -> None:
        """The temp file becomes the object; with ``fsync``, the rename is made durable too."""
        os.replace(tmp, path)
        if self.fsync and sync_dir:
            fsync_dir(path.parent)
