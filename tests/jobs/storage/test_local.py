"""LocalStorage specifics: atomic writes, directory pruning, OSError translation, thread offloading."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.contract.errors import InvalidRequest, ObjectNotFound, StorageError, StorageUnavailable
from jobs.plumbing.storage import Copy, Put, atomic_files
from jobs.plumbing.storage.local import LocalStorage
from jobs.plumbing.storage.local_errors import translate_os_error


def files_under(root: Path) -> list[str]:
    """Every file under root, hidden temp files included, as sorted relative paths."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def failing_writer(exc: OSError, seen: list[list[str]] | None = None) -> Callable[[int, bytes], None]:
    """A ``_write_all`` that writes half the data, records the directory, then fails like a crash."""

    def write(fd: int, data: bytes | memoryview) -> None:
        os.write(fd, bytes(data[: len(data) // 2]))
        if seen is not None:
            seen.append(sorted(os.listdir(os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")))))
        raise exc

    return write


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


# --- atomic writes ------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to locate the temp file")
async def test_crash_mid_write_leaves_neither_partial_file_nor_temp_file(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(atomic_files, "_write_all", failing_writer(OSError(errno.EIO, "I/O error"), seen))

    with pytest.raises(StorageUnavailable):
        await storage.put("images/image_1/master.jpg", b"0123456789" * 1000)

    # While writing, the data went to one hidden temp file next to the target, never to the key.
    assert len(seen) == 1 and len(seen[0]) == 1
    assert seen[0][0].startswith(".~") and seen[0][0].endswith(".tmp")
    assert not (root / "images/image_1/master.jpg").exists()
    assert files_under(root) == []
    assert await storage.list("") == []


async def test_crash_mid_overwrite_keeps_the_old_value(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.put("records/image_1.json", b'{"version": 1}')
    monkeypatch.setattr(atomic_files, "_write_all", failing_writer(OSError(errno.EIO, "I/O error")))

    with pytest.raises(StorageUnavailable):
        await storage.put("records/image_1.json", b'{"version": 2, "padding": "' + b"x" * 500 + b'"}')

    assert (root / "records/image_1.json").read_bytes() == b'{"version": 1}'
    assert files_under(root) == ["records/image_1.json"]


async def test_a_killed_writers_temp_file_is_invisible(storage: LocalStorage, root: Path) -> None:
    await storage.put("images/image_1/master.jpg", b"jpg")
    (root / "images/image_1/.~0123456789abcdef.tmp").write_bytes(b"half a fi")  # left by SIGKILL

    listed = await storage.list("images/")

    assert [o.key for o in listed] == ["images/image_1/master.jpg"]
    with pytest.raises(InvalidRequest):  # and no key can name it
        await storage.get("images/image_1/.~0123456789abcdef.tmp")


async def test_writes_are_fsynced_before_the_rename(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_fdatasync, real_replace = os.fsync, os.fdatasync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def fdatasync(fd: int) -> None:
        events.append("fdatasync")
        real_fdatasync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(f"replace {os.path.basename(src)[:2]} -> {os.path.basename(dst)}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "replace", replace)
    await storage.put("originals/image_1", b"bytes")
    # data flushed, temp renamed over the key, then the directory fsynced
    assert events == ["fdatasync", "replace .~ -> image_1", "fsync"]
    events.clear()
    fast = LocalStorage(storage.root, fsync=False)  # STORAGE_FSYNC=false: still atomic, not flushed
    await fast.put("originals/image_2", b"bytes")
    assert events == ["replace .~ -> image_2"]
    assert await fast.get("originals/image_2") == b"bytes"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name the fsynced directory")
async def test_a_batch_runs_in_one_thread_and_fsyncs_each_directory_once(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.put("originals/image_1", b"original")
    events: list[str] = []
    threads: set[int] = set()
    real_fsync, real_fdatasync, real_replace = os.fsync, os.fdatasync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync " + os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def fdatasync(fd: int) -> None:
        events.append("fdatasync")
        threads.add(threading.get_ident())
        real_fdatasync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(f"replace {os.path.basename(dst)}")
        threads.add(threading.get_ident())
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "replace", replace)

    await storage.write_many(
        [
            Copy("originals/image_1", "images/image_1/master.jpg"),
            Put("images/image_1/small.jpg", b"small"),
            Put("images/image_1/large.jpg", b"large"),
            Put("records/image_1.json", b"{}"),
        ]
    )

    renames = [e for e in events if e.startswith("replace")]
    assert renames == [f"replace {n}" for n in ("master.jpg", "small.jpg", "large.jpg", "image_1.json")]
    assert events.count("fdatasync") == 3  # the link's data was durable already
    dir_syncs = events[events.index(renames[-1]) + 1 :]  # after every rename, each directory once
    assert sorted(dir_syncs) == ["fsync image_1", "fsync records"]
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert await storage.get("images/image_1/master.jpg") == b"original"


async def test_file_io_runs_off_the_event_loop(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    real_write_all = atomic_files._write_all

    def write_all(fd: int, data: bytes | memoryview) -> None:
        threads.append(threading.get_ident())
        real_write_all(fd, data)

    monkeypatch.setattr(atomic_files, "_write_all", write_all)
    await storage.put("originals/image_1", b"bytes")
    assert threads and threading.get_ident() not in threads


# --- directories --------------------------------------------------------------------------------


async def test_delete_prunes_empty_parent_directories_but_never_root(
    storage: LocalStorage, root: Path
) -> None:
    for key in ["images/i1/master.jpg", "images/i1/small.jpg", "images/i2/master.jpg", "a/b/c/d/e"]:
        await storage.put(key, b"x")
    await storage.delete("images/i1/master.jpg")
    assert (root / "images/i1").is_dir()  # small.jpg is still there
    await storage.delete("images/i1/small.jpg")
    assert not (root / "images/i1").exists()
    assert (root / "images/i2").is_dir()
    await storage.delete("images/i2/master.jpg")
    assert not (root / "images").exists()
    await storage.delete("a/b/c/d/e")
    assert root.is_dir()
    assert list(root.iterdir()) == []


async def test_pruning_stops_at_root_even_when_root_sits_in_empty_dirs(tmp_path: Path) -> None:
    root = tmp_path / "outer" / "inner" / "store"
    storage = LocalStorage(root)
    await storage.put("k", b"x")
    await storage.delete("k")
    assert root.is_dir()
    assert (tmp_path / "outer" / "inner").is_dir()


async def test_delete_prefix_prunes_what_it_emptied(storage: LocalStorage, root: Path) -> None:
    for key in ["derived/i1/a.webp", "derived/i1/deep/b.webp", "derived/i2/c.webp"]:
        await storage.put(key, b"x")
    assert await storage.delete_prefix("derived/i1/") == 2
    assert not (root / "derived/i1").exists()
    assert files_under(root) == ["derived/i2/c.webp"]


async def test_directories_are_created_on_demand(tmp_path: Path) -> None:
    root = tmp_path / "does" / "not" / "exist" / "yet"
    storage = LocalStorage(root)
    assert await storage.list("") == []
    await storage.put("images/image_1/master.jpg", b"x")
    assert (root / "images/image_1/master.jpg").read_bytes() == b"x"


async def test_path_for_maps_keys_into_root_and_rejects_traversal(storage: LocalStorage, root: Path) -> None:
    await storage.put("public/image_1/master.jpg", b"published")
    path = storage.path_for("public/image_1/master.jpg")
    assert path == root.resolve() / "public" / "image_1" / "master.jpg"
    assert path.read_bytes() == b"published"
    for bad in ["../secrets", "/etc/passwd", "public/../../x", "a\\b"]:
        with pytest.raises(InvalidRequest):
            storage.path_for(bad)


async def test_traversal_put_writes_nothing_outside_root(storage: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        await storage.put("../escaped", b"evil")
    assert not (tmp_path / "escaped").exists()
    assert files_under(tmp_path) == []


async def test_file_and_directory_clash_is_a_storage_error(storage: LocalStorage) -> None:
    await storage.put("images/image_1", b"a file where a directory is needed")
    with pytest.raises(StorageError) as caught:
        await storage.put("images/image_1/master.jpg", b"x")
    assert not caught.value.transient
    assert await storage.get("images/image_1") == b"a file where a directory is needed"


# --- OSError translation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.ENOSPC, StorageUnavailable),
        (errno.EDQUOT, StorageUnavailable),
        (errno.EIO, StorageUnavailable),
        (errno.EMFILE, StorageUnavailable),
        (errno.EACCES, StorageError),
        (errno.EPERM, StorageError),
        (errno.EROFS, StorageError),
    ],
    ids=lambda v: errno.errorcode[v] if isinstance(v, int) else v.__name__,
)
async def test_write_errors_are_translated(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch, code: int, expected: type[Exception]
) -> None:
    monkeypatch.setattr(atomic_files, "_write_all", failing_writer(OSError(code, os.strerror(code))))
    with pytest.raises(expected) as caught:
        await storage.put("originals/image_1", b"data")
    assert type(caught.value) is expected  # StorageUnavailable is not a StorageError, nor vice versa
    assert isinstance(caught.value.__cause__, OSError)
    assert files_under(root) == []  # the temp file was cleaned up


async def test_read_permission_error_is_a_permanent_storage_error(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.put("originals/image_1", b"data")

    def denied(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(StorageError) as caught:
        await storage.get("originals/image_1")
    assert not caught.value.transient


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file modes")
async def test_real_permission_denied_directory(storage: LocalStorage, root: Path) -> None:
    await storage.put("originals/image_1", b"data")
    (root / "originals").chmod(0o500)
    try:
        with pytest.raises(StorageError):
            await storage.put("originals/image_2", b"data")
    finally:
        (root / "originals").chmod(0o700)


@pytest.mark.parametrize(
    ("code", "writing", "expected"),
    [
        (errno.ENOENT, False, ObjectNotFound),
        (errno.ENOTDIR, False, ObjectNotFound),
        (errno.EISDIR, False, ObjectNotFound),
        (errno.ENOTDIR, True, StorageError),
        (errno.EEXIST, True, StorageError),
        (errno.ENOENT, True, StorageUnavailable),
        (errno.ENAMETOOLONG, False, InvalidRequest),
        (errno.ENOSPC, True, StorageUnavailable),
        (errno.ESTALE, False, StorageUnavailable),
        (errno.EACCES, False, StorageError),
        (errno.ELOOP, False, StorageError),
    ],
)
def test_translate_os_error_table(code: int, writing: bool, expected: type[Exception]) -> None:
    error = translate_os_error(OSError(code, os.strerror(code)), "originals/image_1", writing=writing)
    assert type(error) is expected


# --- copy: a hard link where possible ------------------------------------------------------------


async def test_copy_is_a_hard_link_that_a_later_put_does_not_touch(storage: LocalStorage, root: Path) -> None:
    await storage.put("originals/image_1", b"original bytes")
    await storage.copy("originals/image_1", "images/image_1/master.jpg", content_type="image/jpeg")
    src, dst = root / "originals/image_1", root / "images/image_1/master.jpg"
    assert os.stat(src).st_ino == os.stat(dst).st_ino and os.stat(dst).st_nlink == 2  # no bytes copied
    await storage.put("originals/image_1", b"rewritten")  # a new inode for the source only
    assert await storage.get("images/image_1/master.jpg") == b"original bytes"
    await storage.delete("originals/image_1")
    assert await storage.get("images/image_1/master.jpg") == b"original bytes"
    assert os.stat(dst).st_nlink == 1
    assert files_under(root) == ["images/image_1/master.jpg"]  # no temp name left behind


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP])
async def test_copy_falls_back_to_bytes_where_links_are_refused(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    await storage.put("originals/image_1", b"payload")
    monkeypatch.setattr(atomic_files.os, "link", refuse)
    await storage.copy("originals/image_1", "public/image_1/master.jpg")
    assert await storage.get("public/image_1/master.jpg") == b"payload"
    with pytest.raises(ObjectNotFound):
        await storage.copy("originals/missing", "public/missing/master.jpg")
    assert os.stat(root / "public/image_1/master.jpg").st_nlink == 1
    assert files_under(root) == ["originals/image_1", "public/image_1/master.jpg"]


async def test_copy_of_a_missing_source_links_nothing(storage: LocalStorage, root: Path) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.copy("originals/missing", "images/missing/master.jpg")
    assert files_under(root) == []
