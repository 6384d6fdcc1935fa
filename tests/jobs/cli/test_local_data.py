"""Item 3 of issue 18: the CLI picks up what ``darkroom run`` set up in the checkout's data/.

Every command runs as a user types it in another terminal: scrubbed environment, no exports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from jobs.cli.local_data import local_settings, private_redis_password, record_run
from jobs.contract.settings import Settings, load_settings
from tests.support.cli import darkroom, scrubbed_env
from tests.support.servers import free_port


def fake_run(data: Path, *, http_port: int, redis_port: int, private: bool = False) -> None:
    """data/ as ``darkroom run`` leaves it while it runs."""
    data.mkdir(mode=0o750)
    (data / ".api-key").write_text("dk_local\n")
    (data / ".redis-password").write_text("redis-secret\n")
    run = {"api_url": f"http://127.0.0.1:{http_port}", "redis_url": f"redis://127.0.0.1:{redis_port}/0"}
    (data / ".darkroom-run.json").write_text(json.dumps(run | {"private": private}))


def test_client_commands_use_the_local_key_and_api_and_name_the_url_they_tried(tmp_path: Path) -> None:
    http_port = free_port()  # nothing listens: the stack is "down"
    fake_run(tmp_path / "data", http_port=http_port, redis_port=free_port())
    done = darkroom("list", cwd=tmp_path)
    # it found the key (no "no API key" usage error) and tried the run's API, and says where
    assert done.returncode == 1, done.stderr
    assert f"Cannot reach the Darkroom API at http://127.0.0.1:{http_port}" in done.stderr


def test_a_command_from_another_directory_creates_nothing_and_says_what_is_missing(tmp_path: Path) -> None:
    done = darkroom("list", cwd=tmp_path)
    assert done.returncode == 2 and "DARKROOM_API_KEY" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no data/ made by a client command


def test_the_private_redis_password_and_port_come_from_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    redis_port = free_port()
    fake_run(tmp_path / "data", http_port=8080, redis_port=redis_port, private=True)
    settings = local_settings(load_settings(), create=False)
    assert settings.redis_url == f"redis://:redis-secret@127.0.0.1:{redis_port}/0"
    assert settings.client_api_key == "dk_local" and settings.client_base_url == "http://127.0.0.1:8080"
    monkeypatch.setenv("DARKROOM_REDIS_URL", "redis://elsewhere:6380/1")  # an explicit setting wins
    assert local_settings(load_settings(), create=False).redis_url == "redis://elsewhere:6380/1"


def test_darkroom_run_and_the_cli_share_one_reading_of_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    made = local_settings(load_settings(), create=True)  # what `darkroom run` does
    password = private_redis_password(made.local_storage_root, create=True)
    record_run(made.model_copy(update={"redis_url": "redis://:pw@127.0.0.1:7000/0"}), private_redis=True)
    assert "pw" not in (tmp_path / "data" / ".darkroom-run.json").read_text()  # no secret in it
    read = local_settings(load_settings(), create=False)  # what every other command does
    for name in ("api_keys", "signing_key", "webhook_secret", "admin_key"):
        assert getattr(read, name) == getattr(made, name) and getattr(made, name)
    assert read.redis_url == f"redis://:{password}@127.0.0.1:7000/0"


def test_the_banner_names_a_cli_that_runs_when_darkroom_is_not_on_path(tmp_path: Path) -> None:
    code = "from jobs.cli.services import cli_command; print(cli_command())"
    import subprocess

    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=scrubbed_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown != "darkroom"  # not on this PATH
    version = subprocess.run(
        [*shown.split(), "--version"],
        cwd=tmp_path,
        env=scrubbed_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0 and version.stdout.startswith("darkroom ")


def test_settings_type_is_unchanged() -> None:
    assert isinstance(local_settings(Settings(storage_url="s3://b/p"), create=False), Settings)
