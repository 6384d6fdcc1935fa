"""``darkroom run``: the embedded stack a newcomer starts with ``make run``.

Started with DARKROOM_REDIS_URL on an unused port, it must start its own redis-server,
a worker pool and the API, print the key and a curl example, process an upload, and
stop everything it started on Ctrl-C (SIGINT).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.embedded import embedded_env, start_darkroom_run
from tests.support.images import IMAGE_FIELDS, oriented_jpeg
from tests.support.servers import free_port, require_redis_binary, wait_for_port

pytestmark = pytest.mark.e2e


def port_is_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_darkroom_run_brings_up_the_whole_stack(tmp_path: Path) -> None:
    require_redis_binary()
    redis_port, http_port = free_port(), free_port()
    env = embedded_env(tmp_path / "data", http_port=http_port, redis_port=redis_port)
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = start_darkroom_run(env, log)
        try:
            base = f"http://127.0.0.1:{http_port}"
            wait_for_port(http_port, timeout=60)
            assert port_is_open(redis_port), "darkroom run did not start its private redis-server"
            banner = log_path.read_text()
            assert "k1" in banner and "curl -F file=@photo.jpg" in banner and base in banner

            accepted = httpx.post(
                f"{base}/v1/images/upload",
                headers={"x-api-key": "k1"},
                files={"file": ("photo.jpg", oriented_jpeg(640, 480, orientation=1))},
            )
            assert accepted.status_code == 202 and accepted.json()["status"] == "processing"
            image_id = accepted.json()["id"]
            settled = httpx.get(
                f"{base}/v1/images/{image_id}?wait=30", headers={"x-api-key": "k1"}, timeout=40
            )
            assert settled.status_code == 200, settled.text
            body = settled.json()
            assert body["status"] == "ready" and set(body) == IMAGE_FIELDS
            assert (body["width"], body["height"]) == (640, 480)
            assert (tmp_path / "data" / "images" / image_id / "master.jpg").is_file()
        finally:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
    deadline = time.monotonic() + 10
    while port_is_open(redis_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_is_open(redis_port), f"redis-server left running:\n{log_path.read_text()[-3000:]}"
    assert not port_is_open(http_port)
    assert proc.returncode == 0, log_path.read_text()[-3000:]
