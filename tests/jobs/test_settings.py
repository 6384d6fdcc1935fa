"""Settings come from DARKROOM_* variables only, and round-trip through ``to_env``."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.contract.errors import ConfigError
from jobs.contract.settings import Settings, load_settings


def test_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("DARKROOM_"):
            monkeypatch.delenv(name)
    s = load_settings()
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert s.storage_url == "file://./data" and s.storage_scheme == "file"
    assert s.max_input_bytes == 20 * 1024 * 1024 and s.max_pixels == 50_000_000
    assert s.allow_private_sources is False
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8080)
    assert s.client_base_url == "http://127.0.0.1:8080"


def test_environment_is_read_and_round_trips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DARKROOM_API_KEYS", '{"k1": "acme"}')
    monkeypatch.setenv("DARKROOM_STORAGE_URL", "s3://bucket/some/prefix")
    monkeypatch.setenv("DARKROOM_MAX_PIXELS", "1234")
    monkeypatch.setenv("DARKROOM_ALLOW_PRIVATE_SOURCES", "true")
    s = load_settings()
    assert s.api_keys == {"k1": "acme"} and s.client_api_key == "k1"
    assert s.s3_bucket_and_prefix == ("bucket", "some/prefix")
    assert s.max_pixels == 1234 and s.allow_private_sources is True
    for key, value in s.to_env().items():
        monkeypatch.setenv(key, value)
    assert load_settings() == s


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARKROOM_STORAGE_URL", "ftp://nope")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == "DARKROOM_STORAGE_URL"
    monkeypatch.setenv("DARKROOM_STORAGE_URL", "file://./data")
    monkeypatch.setenv("DARKROOM_MAX_PIXELS", "0")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.field == "DARKROOM_MAX_PIXELS"


def test_relative_file_url_resolves_against_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(storage_url="file://./data").local_storage_root == tmp_path / "data"
    assert Settings(storage_url=f"file://{tmp_path}/x").local_storage_root == tmp_path / "x"


def test_the_memory_kept_for_reuse_stays_below_the_worker_memory_budget() -> None:
    assert Settings().malloc_retain_mb < Settings().worker_memory_mb <= 600  # the documented defaults
    with pytest.raises(ConfigError, match="MALLOC_RETAIN_MB must be below WORKER_MEMORY_MB"):
        load_settings(malloc_retain_mb=600, worker_memory_mb=512)
