"""The dashboard's trend charts in headless Chromium after a real drain: an API and two pools
drain a few dozen uploads (some undecodable) and transforms; the charts show what the workers
finished, and ``charts.js`` refreshes them without a page reload.

Run with ``DARKROOM_UPDATE_SCREENSHOT=1`` to refresh ``docs/dashboard-charts.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.client import Client
from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.e2e.test_dashboard import photo, png_size
from tests.support.browser import _run, require_chromium, screenshot
from tests.support.stack import ROOT, process_env, start_api, start_worker, with_free_http_port

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "dashboard-charts.png"
UPLOADS, BROKEN, TRANSFORMS = 30, 4, 6
UPDATE = os.environ.get("DARKROOM_UPDATE_SCREENSHOT") == "1"
SPREAD_MINUTES = 3 if UPDATE else 1


def chart(dom: str, queue: Queue) -> dict[str, int]:
    found = re.search(
        rf'<div class="chart" data-queue="{re.escape(queue.value)}" data-done="(\d+)" '
        r'data-failed="(\d+)" data-bars="(\d+)">',
        dom,
    )
    assert found is not None, f"no chart for {queue.value}"
    done, failed, bars = (int(g) for g in found.groups())
    return {"done": done, "failed": failed, "bars": bars}


def test_charts_draw_a_real_drain(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    chromium = require_chromium()
    settings = with_free_http_port(
        make_settings(admin_key="ops-key", expire_sweep_interval=3600, metrics_port=0)
    )
    api, base_url = start_api(settings, tmp_path)
    pools = [
        start_worker(settings, tmp_path, "--queues", "upload", name="pool-upload"),
        start_worker(settings, tmp_path, "--queues", "transform", name="pool-transform"),
    ]
    client = Client(base_url, "k1", timeout=60)
    try:
        uploads = []
        for n in range(UPLOADS):
            if n and n % (UPLOADS // SPREAD_MINUTES) == 0:
                time.sleep(60)  # refreshing the screenshot: one batch a minute, so it shows a trend
            uploads.append(client.upload(photo(7 * n, (480, 320)), filename=f"photo-{n}.jpg"))
        broken = [client.upload(b"not an image %d" % n, filename=f"bad-{n}.jpg") for n in range(BROKEN)]
        ready = [client.wait(u.id, timeout=120) for u in uploads]
        assert all(i.status == Status.READY for i in ready)
        assert all(client.wait(b.id, timeout=120).status == Status.FAILED for b in broken)
        ops = [{"op": "resize", "width": 200}, {"op": "grayscale"}]
        made = [client.transform(ready[n].id, ops) for n in range(TRANSFORMS)]
        assert all(client.wait(t.id, timeout=120).status == Status.READY for t in made)

        link = subprocess.run(
            [sys.executable, "-m", "jobs.cli.main", "dashboard-link"],
            cwd=ROOT, env=process_env(settings), capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()  # fmt: skip
        assert link.startswith(f"{base_url}/dashboard/login?token="), link
        # virtual time runs the page's 10 s refresh (charts.js swaps <main>) once before the DOM is dumped
        dom = _run(chromium, "--virtual-time-budget=12000", "--dump-dom", link).stdout
        assert 'data-role="operator"' in dom, dom[:2000]
        upload = chart(dom, Queue.UPLOAD)
        assert (upload["done"], upload["failed"]) == (UPLOADS, BROKEN)
        assert upload["bars"] >= 1
        assert chart(dom, Queue.TRANSFORM)["done"] == TRANSFORMS
        body = re.search(r'<div class="charts" id="charts-body"[^>]*>', dom)
        assert body is not None and re.search(r'data-refreshes="[1-9]', body.group(0)), body
        assert re.search(rf'data-queue="{Queue.UPLOAD.value}".*?<rect class="done"', dom, re.S)
        assert re.search(rf'data-queue="{Queue.UPLOAD.value}".*?<polyline class="p50"', dom, re.S)

        shot = screenshot(chromium, link, tmp_path / "dashboard-charts.png", size=(1280, 1000))
        assert png_size(shot) == (1280, 1000) and shot.stat().st_size > 20_000
        if UPDATE:
            shutil.copyfile(shot, SCREENSHOT)
    finally:
        client.close()
        for pool in pools:
            pool.stop()
        api.stop()
