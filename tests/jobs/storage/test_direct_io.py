"""Durable writes of big objects with O_DIRECT (jobs.plumbing.storage.direct_io), as LocalStorage does."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from jobs.plumbing.storage import atomic_files, direct_io
from jobs.plumbing.storage.direct_io import ALIGN, CHUNK, DIRECT_MIN_BYTES, O_DIRECT
from jobs.plumbing.storage.local import LocalStorage

pytestmark = pytest.mark.skipif(not direct_io.available(), reason="no O_DIRECT on this platform")

fcntl = pytest.importorskip("fcntl")

# below the threshold, exactly on it, unaligned tails, more than one chunk
SIZES = [DIRECT_MIN_BYTES - 1, DIRECT_MIN_BYTES, DIRECT_MIN_BYTES + 1, 3_700_123, 2 * CHUNK + ALIGN - 1]


def pattern(size: int) -> bytes:
    """Bytes that differ at every position a misplaced chunk or padding would land on."""
    return os.urandom(size)


def open_flags_seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The flags of every file LocalStorage creates from now on (not the directories it fsyncs)."""
    seen: list[int] = []
    real_open = os.open

    def spy(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        fd = real_open(path, flags, mode)
        if flags & os.O_CREAT:
            seen.append(flags)
        return fd

    monkeypatch.setattr(atomic_files.os, "open", spy)
    return seen


def direct_pwrites(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each pwrite in direct_io: whether its descriptor really had O_DIRECT set."""
    seen: list[bool] = []
    real_pwrite = os.pwrite

    def spy(fd: int, data: bytes | memoryview, offset: int) -> int:
        seen.append(bool(fcntl.fcntl(fd, fcntl.F_GETFL) & O_DIRECT))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(direct_io.os, "pwrite", spy)
    return seen


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".~*"))


@pytest.mark.parametrize("size", SIZES)
async def test_big_objects_round_trip_exactly(tmp_path: Path, size: int) -> None:
    storage = LocalStorage(tmp_path)
    data = pattern(size)

    await storage.put("originals/image_1", data)

    assert await storage.get("originals/image_1") == data
    assert (tmp_path / "originals" / "image_1").stat().st_size == size  # the padding was cut off
    assert leftovers(tmp_path) == []


async def test_objects_of_a_mebibyte_or_more_bypass_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    flags = open_flags_seen(monkeypatch)
    direct = direct_pwrites(monkeypatch)

    await storage.put("originals/small", pattern(DIRECT_MIN_BYTES - 1))
    await storage.put("originals/big", pattern(3_700_123))

    assert [bool(f & O_DIRECT) for f in flags] == [False, True]
    # every chunk of the big one went to the disk directly: 3.7 MB in 1 MiB chunks
    assert direct == [True, True, True, True]


async def test_writes_without_fsync_stay_buffered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """STORAGE_FSYNC=false trades durability for speed: no O_DIRECT wait for the disk either."""
    storage = LocalStorage(tmp_path, fsync=False)
    flags = open_flags_seen(monkeypatch)

    await storage.put("originals/big", pattern(3_700_123))

    assert [bool(f & O_DIRECT) for f in flags] == [False]


async def test_a_filesystem_refusing_o_direct_at_open_gets_ordinary_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    flags: list[int] = []
    real_open = os.open

    def refusing(path: str | os.PathLike[str], flag: int, mode: int = 0o777, **kw: object) -> int:
        if flag & O_DIRECT:
            flags.append(flag)
            raise OSError(errno.EINVAL, "Invalid argument")  # tmpfs before Linux 6.6 answers so
        fd = real_open(path, flag, mode)
        if flag & os.O_CREAT:
            flags.append(flag)
        return fd

    monkeypatch.setattr(atomic_files.os, "open", refusing)
    first, second = pattern(3_000_000), pattern(2_000_000)

    await storage.put("originals/image_1", first)
    await storage.put("originals/image_2", second)

    assert await storage.get("originals/image_1") == first
    assert await storage.get("originals/image_2") == second
    # asked once, refused, retried without; then never asked again
    assert [bool(f & O_DIRECT) for f in flags] == [True, False, False]
    assert leftovers(tmp_path) == []


def refuse_direct_pwrite(monkeypatch: pytest.MonkeyPatch, *, after: int) -> list[bool]:
    """pwrite fails with EINVAL on a descriptor with O_DIRECT once ``after`` writes succeeded."""
    calls: list[bool] = []
    real_pwrite = os.pwrite

    def refusing(fd: int, data: bytes | memoryview, offset: int) -> int:
        is_direct = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & O_DIRECT)
        calls.append(is_direct)
        if is_direct and len(calls) > after:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(direct_io.os, "pwrite", refusing)
    return calls


@pytest.mark.parametrize("after", [0, 2])
async def test_a_direct_write_refused_midway_is_finished_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    storage = LocalStorage(tmp_path)
    calls = refuse_direct_pwrite(monkeypatch, after=after)
    data = pattern(3_700_123)

    await storage.put("originals/image_1", data)

    assert await storage.get("originals/image_1") == data
    assert (tmp_path / "originals" / "image_1").stat().st_size == len(data)
    assert calls[: after + 1] == [True] * (after + 1)  # the refused one, then the rest buffered
    assert not any(calls[after + 1 :])
    flags = open_flags_seen(monkeypatch)
    await storage.put("originals/image_2", data)
    assert [bool(f & O_DIRECT) for f in flags] == [False]  # the storage stopped asking


def write_direct_to_file(path: Path, data: bytes) -> tuple[bool, bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | O_DIRECT, 0o644)
    try:
        took = direct_io.write_direct(fd, data)
    finally:
        os.close(fd)
    return took, path.read_bytes()


def test_a_short_direct_write_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A direct write that stops early (it may, e.g. near a quota) is finished, not left short."""
    real_pwrite = os.pwrite
    calls: list[int] = []

    def short_once(fd: int, data: bytes | memoryview, offset: int) -> int:
        calls.append(len(data))
        if len(calls) == 2:
            return real_pwrite(fd, memoryview(data)[: 3 * ALIGN], offset)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(direct_io.os, "pwrite", short_once)
    data = pattern(3 * CHUNK + 17)

    took, written = write_direct_to_file(tmp_path / "f", data)

    assert written == data
    assert took  # O_DIRECT itself worked: the storage keeps using it
    # the second chunk came back short, and the rest went through the page cache in one go
    assert calls == [CHUNK, CHUNK, len(data) - CHUNK - 3 * ALIGN]


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a tmpfs at /dev/shm")
async def test_tmpfs_whatever_its_kernel_says(tmp_path: Path) -> None:
    """A real filesystem that may refuse O_DIRECT (tmpfs before 6.6): the bytes are right either way."""
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        storage = LocalStorage(shm)
        data = pattern(3_700_123)
        await storage.put("originals/image_1", data)
        await storage.put("originals/image_2", data)
        assert await storage.get("originals/image_1") == data
        assert await storage.get("originals/image_2") == data


# --- reads ----------------------------------------------------------------------------------------


def read_opens(monkeypatch: pytest.MonkeyPatch, *, refuse: bool = False) -> list[bool]:
    """For each file direct_io opens to read: whether it asked for O_DIRECT (``refuse``: EINVAL then)."""
    seen: list[bool] = []
    real_open = os.open

    def spy(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        seen.append(bool(flags & O_DIRECT))
        if refuse and flags & O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    monkeypatch.setattr(direct_io.os, "open", spy)
    return seen


async def test_big_objects_are_read_around_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    small, big = pattern(DIRECT_MIN_BYTES - 1), pattern(3_700_123)
    await storage.put("originals/small", small)
    await storage.put("originals/big", big)
    opens = read_opens(monkeypatch)

    assert await storage.get("originals/small") == small  # read the ordinary way (cacheable)
    assert await storage.get("originals/big") == big

    assert opens == [True]  # only the big one went through direct_io's O_DIRECT open


@pytest.fixture
async def stored_big(tmp_path: Path) -> tuple[LocalStorage, bytes]:
    """A storage holding one 3.7 MB object at ``originals/big``, and its bytes."""
    storage = LocalStorage(tmp_path)
    big = pattern(3_700_123)
    await storage.put("originals/big", big)
    return storage, big


async def test_a_filesystem_refusing_direct_reads_gets_ordinary_ones(
    stored_big: tuple[LocalStorage, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, big = stored_big
    opens = read_opens(monkeypatch, refuse=True)

    assert await storage.get("originals/big") == big
    assert await storage.get("originals/big") == big

    assert opens == [True]  # refused once; the storage then stopped asking, for writes too
    assert storage.files.direct is False


async def test_a_direct_read_refused_after_open_is_read_again_the_ordinary_way(
    stored_big: tuple[LocalStorage, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, big = stored_big

    def refusing(fd: int, buffers: list[memoryview], offset: int) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(direct_io.os, "preadv", refusing)

    assert await storage.get("originals/big") == big
    assert storage.files.direct is False


def test_read_buffers_are_reused_and_bounded() -> None:
    buffers = direct_io._ReadBuffers(keep=2)
    with buffers.borrow(3 * CHUNK - 5) as first:
        pass
    with buffers.borrow(2 * CHUNK) as again:
        assert again is first  # warm memory: the same mapping, big enough
    with buffers.borrow(CHUNK) as a, buffers.borrow(CHUNK) as b, buffers.borrow(5 * CHUNK) as c:
        assert a is first  # the kept one fits
        assert len(b) == CHUNK and len(c) == 5 * CHUNK  # in use at the same time: new mappings
    assert sorted(len(m) for m in buffers._free) == [3 * CHUNK, 5 * CHUNK]
    assert b.closed  # one more than kept: the smallest was unmapped
