"""``darkroom run`` keeps what it stores to itself: its private redis-server requires a
generated password, and the images it stores are not world-readable."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.embedded import embedded_env, start_darkroom_run
from tests.support.images import oriented_jpeg
from tests.support.servers import free_port, require_redis_binary, wait_for_port

pytestmark = pytest.mark.e2e


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """A running ``darkroom run`` (umask 022): its API base URL, its Redis port, its log."""
    require_redis_binary()
    redis_port, http_port = free_port(), free_port()
    env = embedded_env(
        tmp_path / "data", http_port=http_port, redis_port=redis_port, DARKROOM_METRICS_PORT="0"
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = start_darkroom_run(
            env,
            log,
            preexec_fn=lambda: os.umask(0o022),  # the common default, whatever the test runner's
        )
        try:
            wait_for_port(http_port, timeout=60)
            yield f"http://127.0.0.1:{http_port}", redis_port, log_path
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_the_private_redis_needs_the_generated_password(
    embedded: tuple[str, int, Path], tmp_path: Path
) -> None:
    _, port, log_path = embedded
    data = tmp_path / "data"
    password_file = data / ".redis-password"
    password = password_file.read_text().strip()
    assert len(password) >= 24 and mode(password_file) == 0o600
    anonymous = redis.Redis(port=port)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    anonymous.close()
    with redis.Redis(port=port, password=password) as client:
        assert client.ping()
    assert mode(data / ".redis") == 0o700
    assert password not in log_path.read_text()  # the banner names the URL, not its password
    for pid in os.listdir("/proc"):  # nor does any command line (every user can read those)
        if pid.isdigit():
            try:
                assert password not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue


def test_stored_images_are_not_world_readable(embedded: tuple[str, int, Path], tmp_path: Path) -> None:
    base, _, _ = embedded
    accepted = httpx.post(
        f"{base}/v1/images/upload",
        headers={"x-api-key": "k1"},
        files={"file": ("photo.jpg", oriented_jpeg(320, 240, orientation=1))},
        timeout=30,
    )
    assert accepted.status_code == 202, accepted.text
    image_id = accepted.json()["id"]
    settled = httpx.get(f"{base}/v1/images/{image_id}?wait=30", headers={"x-api-key": "k1"}, timeout=40)
    assert settled.json()["status"] == "ready", settled.text
    data = tmp_path / "data"
    stored = [data / "originals" / image_id, *sorted((data / "images" / image_id).iterdir())]
    assert len(stored) == 5  # original, master and three sizes
    assert {str(p.relative_to(data)): mode(p) for p in stored} == {
        str(p.relative_to(data)): 0o640 for p in stored
    }
    dirs = [data / "originals", data / "images", data / "images" / image_id]
    assert {str(p): mode(p) for p in dirs} == {str(p): 0o750 for p in dirs}
