"""Stored objects are private: files 0640 and directories 0750, narrowed further by the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.plumbing.storage.local import LocalStorage

BIG = os.urandom(2 * 1024 * 1024)  # a durable write of this size goes through O_DIRECT


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    """``{relative path: permission bits}`` of everything under ``root`` (root included)."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


async def store_everything(storage: LocalStorage) -> None:
    await storage.put("originals/image_a", b"original bytes")
    await storage.put("images/image_a/master.jpeg", BIG)
    await storage.copy("images/image_a/master.jpeg", "public/image_a/master.jpeg")


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o640, 0o750), (0o077, 0o600, 0o700)],
                         indirect=["umask"])  # fmt: skip
@pytest.mark.parametrize("fsync", [True, False])
async def test_objects_and_their_directories_are_private(
    tmp_path: Path, umask: int, file_mode: int, dir_mode: int, fsync: bool
) -> None:
    root = tmp_path / "data"
    await store_everything(LocalStorage(root, fsync=fsync))
    found = modes(root)
    files = {p: m for p, m in found.items() if (root / p).is_file()}
    dirs = {p: m for p, m in found.items() if (root / p).is_dir()}
    assert set(files) == {"originals/image_a", "images/image_a/master.jpeg", "public/image_a/master.jpeg"}
    assert files == dict.fromkeys(files, file_mode)
    assert dirs == dict.fromkeys(dirs, dir_mode) and len(dirs) == 6  # root, 3 top-level, 2 per-image
