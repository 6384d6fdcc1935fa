"""The metrics directory of a bare ``dramatiq`` pool is private, never a guessable temp path."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.contract.settings import Settings
from worker.exporter import ENV, metrics_dir


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_fallback_lives_in_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    found = metrics_dir(settings)
    assert found == str(settings.local_storage_root / ".metrics" / str(os.getppid()))
    assert os.environ[ENV] == found and mode(found) == 0o700
    assert not found.startswith(tempfile.gettempdir() + os.sep + "darkroom-metrics-")
    assert metrics_dir(settings) == found  # every process of the pool names the same one


def test_without_local_storage_each_process_gets_a_fresh_private_directory(
    monkeypatch: pytest.MonkeyPatch, make_settings: Callable[..., Settings]
) -> None:
    s3 = make_settings(storage_url="s3://bucket/prefix")
    predictable = os.path.join(tempfile.gettempdir(), f"darkroom-metrics-{os.getppid()}")
    found = []
    for _ in range(2):
        monkeypatch.delenv(ENV, raising=False)
        found.append(metrics_dir(s3))
    try:
        assert predictable not in found and found[0] != found[1]
        assert [mode(path) for path in found] == [0o700, 0o700]
    finally:
        for path in found:
            Path(path).rmdir()
