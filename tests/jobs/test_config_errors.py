"""A configuration mistake is a ConfigError naming the setting, and every entry point exits 2 on it.

The entry points run as operators start them (subprocesses), with a bad ``DARKROOM_STORAGE_URL``:
each prints ``…: DARKROOM_STORAGE_URL: …`` and exits 2 before it opens anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.contract.errors import ConfigError, DarkroomError, InvalidRequest
from jobs.contract.settings import Settings, load_settings
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def bad_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DARKROOM_")}
    env["DARKROOM_STORAGE_URL"] = "ftp://nope"
    env["DARKROOM_REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing there, never 6379
    return env


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["-m", "jobs.cli.main", "api"], "darkroom: "),
        (["-m", "jobs.cli.main", "worker", "--processes", "1"], "darkroom: "),
        (["-m", "worker", "--processes", "1"], "python -m worker: "),
    ],
    ids=["darkroom api", "darkroom worker", "python -m worker"],
)
def test_a_bad_setting_exits_2_naming_it(argv: list[str], prefix: str) -> None:
    done = subprocess.run(
        [sys.executable, *argv], env=bad_env(), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{prefix}DARKROOM_STORAGE_URL: "), done.stderr
    assert "invalid_request" not in done.stderr and "Traceback" not in done.stderr


def test_config_error_is_not_a_caller_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARKROOM_STORAGE_URL", "ftp://nope")
    with pytest.raises(ConfigError) as info:
        load_settings()
    error = info.value
    assert error.setting == "DARKROOM_STORAGE_URL" and error.message.startswith("DARKROOM_STORAGE_URL: ")
    assert isinstance(error, DarkroomError) and not isinstance(error, InvalidRequest)
    assert error.status == 500 and not error.transient  # never a 4xx: the caller did nothing wrong


def test_cli_commands_name_a_missing_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    from jobs.cli.main import main

    for name in list(os.environ):
        if name.startswith("DARKROOM_"):
            monkeypatch.delenv(name)
    for name, value in settings.model_copy(update={"api_keys": {}}).to_env().items():
        monkeypatch.setenv(name, value)
    assert main(["get", "image_" + "a" * 24]) == 2  # no API key to call the API with
    assert "darkroom: DARKROOM_API_KEY: " in capsys.readouterr().err
    assert main(["dashboard-link"]) == 2
    assert "darkroom: DARKROOM_ADMIN_KEY: " in capsys.readouterr().err
