"""Issue 18, items 4, 5, 8 and 11: what the CLI says, and its exit codes, typed in a fresh terminal."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.cli.services import banner
from jobs.contract.settings import Settings
from tests.support.cli import darkroom, scrubbed_env
from tests.support.images import oriented_jpeg
from tests.support.servers import free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# --- item 4: operator commands name the Redis and the storage they act on -------------------------


def test_operator_commands_name_their_redis_masked_and_storage(tmp_path: Path) -> None:
    redis_url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing there: they fail, but say where
    env = scrubbed_env(DARKROOM_REDIS_URL=redis_url, DARKROOM_STORAGE_URL=f"file://{tmp_path}")
    for command in (
        ["status"],
        ["requeue-dead", "--list"],
        ["block", "a" * 64],
        ["fsck"],
        ["probe", "worker"],
    ):
        done = darkroom(*command, cwd=tmp_path, env=env)
        assert done.returncode == 1, (command, done.stderr)
        assert redis_url.replace("hunter2", "***") in done.stderr, (command, done.stderr)
        assert f"file://{tmp_path}" in done.stderr and "hunter2" not in done.stderr


def test_reindex_over_a_missing_storage_exits_2_before_touching_redis(tmp_path: Path) -> None:
    env = scrubbed_env(DARKROOM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    done = darkroom("reindex", cwd=tmp_path, env=env)  # the wrong directory: no data/ here
    assert done.returncode == 2, done.stderr
    assert "does not exist" in done.stderr and str(tmp_path / "data") in done.stderr


# --- item 5: darkroom run checks its ports before it starts anything ---------------------------------


def test_darkroom_run_on_a_busy_port_fails_with_one_line_and_exit_2(tmp_path: Path, busy_port: int) -> None:
    env = scrubbed_env(
        DARKROOM_HTTP_PORT=str(busy_port), DARKROOM_METRICS_PORT="0",
        DARKROOM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )  # fmt: skip
    done = darkroom("run", "--processes", "1", cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stderr
    assert "Darkroom is running" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"port {busy_port}" in lines[0] and "already in use" in lines[0], lines


def test_darkroom_run_checks_the_metrics_port_too(tmp_path: Path, busy_port: int) -> None:
    env = scrubbed_env(
        DARKROOM_HTTP_PORT=str(free_port()), DARKROOM_METRICS_PORT=str(busy_port),
        DARKROOM_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )  # fmt: skip
    done = darkroom("run", "--processes", "1", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "DARKROOM_METRICS_PORT" in done.stderr, done.stderr


# --- item 8: --version, the positional purge, one exit code for an unreachable API -------------------


def test_version() -> None:
    done = darkroom("--version", cwd=Path.cwd())
    assert done.returncode == 0 and done.stdout.startswith("darkroom ") and "unknown" not in done.stdout


def test_an_unreachable_api_is_exit_1_for_every_client_command(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(oriented_jpeg(32, 24, orientation=1))
    api = f"http://127.0.0.1:{free_port()}"
    env = scrubbed_env(DARKROOM_API_URL=api, DARKROOM_API_KEY="k1")
    image = "image_" + "a" * 24
    for command in (
        ["upload", str(photo)], ["upload", str(photo), "--wait"], ["get", image], ["list"],
        ["purge", "image", image], ["purge", "image", "--image", image], ["publish", image],
        ["webhook-secret"], ["purge-status", "p1"],
    ):  # fmt: skip
        done = darkroom(*command, cwd=tmp_path, env=env)
        assert done.returncode == 1, (command, done.returncode, done.stderr)
        assert f"Cannot reach the Darkroom API at {api}" in done.stderr, (command, done.stderr)


def test_purge_image_takes_one_positional_id(tmp_path: Path) -> None:
    env = scrubbed_env(DARKROOM_API_URL=f"http://127.0.0.1:{free_port()}", DARKROOM_API_KEY="k1")
    done = darkroom("purge", "image", "image_a", "image_b", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "darkroom purge image ID" in done.stderr, done.stderr


# --- item 11: the banner lists every account and never wraps a URL in a file --------------------------


def test_the_banner_lists_every_configured_account() -> None:
    settings = Settings(api_keys={"k1": "acme", "k2secret-key-of-globex": "globex"}, api_key="k1")
    text = banner(settings)
    assert "acme: k1" in text and "globex: k2secr…" in text and "k2secret-key-of-globex" not in text


def test_stderr_written_to_a_file_never_wraps_a_url(tmp_path: Path) -> None:
    url = "http://127.0.0.1:8080/dashboard/login?token=" + "x" * 200
    code = f"from jobs.cli.output import err; err.print({url!r})"
    out = tmp_path / "stderr.txt"
    with out.open("w") as file:
        subprocess.run([sys.executable, "-c", code], env=scrubbed_env(), stderr=file, check=True)
    assert out.read_text().splitlines() == [url]
