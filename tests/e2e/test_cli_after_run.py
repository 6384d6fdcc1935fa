"""Issue 18 acceptance: right after ``darkroom run``, the CLI of the same checkout works in
another terminal with nothing exported.

``darkroom run`` starts in a fresh directory (its data/ under it) with only the ports it
must not share on this host; every later command runs from that directory with a scrubbed
environment (PATH, HOME, PYTHONPATH): it finds the key, the API, the Redis and the dashboard's
keys in data/ alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.cli import darkroom, scrubbed_env
from tests.support.images import oriented_jpeg
from tests.support.servers import free_port, require_redis_binary, wait_for_port

pytestmark = pytest.mark.e2e


def test_upload_list_and_dashboard_link_work_after_darkroom_run_with_no_exports(tmp_path: Path) -> None:
    require_redis_binary()
    http_port, redis_port = free_port(), free_port()
    # the only settings: ports this shared host cannot give to a test (8080, 6379, 9191)
    run_env = scrubbed_env(
        DARKROOM_HTTP_PORT=str(http_port), DARKROOM_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DARKROOM_METRICS_PORT="0", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    (tmp_path / "photo.jpg").write_bytes(oriented_jpeg(320, 240, orientation=1))
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.cli.main", "run", "--processes", "1"],
            cwd=tmp_path, env=run_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_port(http_port, timeout=90)
            upload = darkroom("upload", "photo.jpg", "--wait", "--timeout", "60", cwd=tmp_path)
            assert upload.returncode == 0, upload.stderr
            image = json.loads(upload.stdout)
            assert image["status"] == "ready" and image["width"] == 320

            listing = darkroom("list", cwd=tmp_path)
            assert listing.returncode == 0, listing.stderr
            assert [i["id"] for i in json.loads(listing.stdout)["data"]] == [image["id"]]

            link = darkroom("dashboard-link", cwd=tmp_path)
            assert link.returncode == 0, link.stderr
            url = link.stdout.strip()
            assert urlsplit(url).port == http_port
            login = httpx.get(url, follow_redirects=False, timeout=30)
            assert login.status_code in (302, 303, 307), login.text  # the API accepts the link's token

            status = darkroom("status", "--json", cwd=tmp_path)  # the run's private Redis, authenticated
            assert status.returncode == 0, status.stderr
            assert f"127.0.0.1:{redis_port}" in status.stderr and "***" in status.stderr
            assert json.loads(status.stdout)["images"]["by_status"].get("ready") == 1

            banner = log_path.read_text()
            assert "darkroom upload photo.jpg --wait" in banner and "local: dk_" in banner
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
    assert proc.returncode == 0, log_path.read_text()[-3000:]
    assert not (tmp_path / "data" / ".darkroom-run.json").exists()  # the stack is gone: so is its address
