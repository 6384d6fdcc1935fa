"""The ops dashboard in headless Chromium: its numbers are Redis's numbers; then a screenshot.

Run with ``DARKROOM_UPDATE_SCREENSHOT=1`` to refresh ``docs/dashboard.png``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
from PIL import Image as PILImage

from jobs.api.dashboard_auth import Viewer, issue
from jobs.client import Client
from jobs.contract.constants import WORKERS_KEY, Queue, account_images_key, image_key
from jobs.contract.payloads import PublishJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.queue import redis_broker
from jobs.services.admin.keys import (
    BROKER_HEARTBEATS_KEY,
    acks_key,
    dead_key,
    delayed_messages_key,
    queue_key,
)
from tests.support.browser import dump_dom, require_chromium, screenshot
from tests.support.dead_letters import kill
from tests.support.stack import ROOT, start_api, start_worker, with_free_http_port

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "dashboard.png"
TRACEBACK = (
    "Traceback (most recent call last):\n  ...\n"
    "jobs.contract.errors.StorageUnavailable: The storage is unavailable."
)


def photo(hue: int, size: tuple[int, int] = (960, 640)) -> bytes:
    """A colourful gradient JPEG (so the thumbnails in the screenshot look like something)."""
    gradient = PILImage.linear_gradient("L").resize(size)
    image = PILImage.merge("HSV", (PILImage.new("L", size, hue), PILImage.new("L", size, 170), gradient))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def field(dom: str, queue: Queue, name: str) -> int:
    row = re.search(rf'<tr data-queue="{re.escape(queue.value)}">(.*?)</tr>', dom, re.S)
    assert row is not None, f"no row for {queue.value}"
    cell = re.search(rf'data-field="{name}">(\d+)<', row.group(1))
    assert cell is not None, f"no {name} for {queue.value}"
    return int(cell.group(1))


def redis_truth(client: redis.Redis, queue: Queue) -> dict[str, int]:
    brokers = [b.decode() for b in client.zrange(BROKER_HEARTBEATS_KEY, 0, -1)]
    return {
        "ready": int(client.llen(queue_key(queue))),
        "delayed": int(client.hlen(delayed_messages_key(queue))),
        "dead": int(client.zcard(dead_key(queue))),
        "in_flight": sum(int(client.scard(acks_key(b, queue))) for b in brokers),
    }


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_dashboard_shows_what_redis_holds(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    chromium = require_chromium()
    settings = with_free_http_port(
        make_settings(admin_key="ops-key", expire_sweep_interval=3600, metrics_port=0)
    )
    api, base_url = start_api(settings, tmp_path)
    pool = start_worker(settings, tmp_path, "--queues", "upload", name="pool-upload")
    acme, globex = Client(base_url, "k1", timeout=60), Client(base_url, "k2", timeout=60)
    try:
        names = ["harbour", "meadow", "dunes", "glacier", "orchard"]
        uploads = [
            (acme if n % 2 == 0 else globex).upload(photo(40 * n), filename=f"{name}.jpg")
            for n, name in enumerate(names)
        ]
        ready = [(acme if n % 2 == 0 else globex).wait(u.id, timeout=90) for n, u in enumerate(uploads)]
        assert all(image.status == Status.READY for image in ready)
        broken = acme.wait(acme.upload(b"this is not an image", filename="broken.jpg").id, timeout=90)
        assert broken.status == Status.FAILED and broken.error is not None
        pending = [
            acme.transform(ready[0].id, [{"op": "grayscale"}]).id for _ in range(2)
        ]  # no transform pool
        kill(redis_broker(settings), PublishJob(image_id=ready[2].id, account="acme", job_id="stuck"),
             retries=5, traceback=TRACEBACK)  # fmt: skip

        link = f"{base_url}/dashboard/login?token={issue(settings, Viewer('operator', None), use='login')}"
        dom = dump_dom(chromium, link)
        r = redis.Redis.from_url(settings.redis_url)
        assert 'data-role="operator"' in dom, dom[:2000]

        # Queues: every number in the table is the one in Redis.
        for queue in Queue:
            truth = redis_truth(r, queue)
            shown = {name: field(dom, queue, name) for name in truth}
            assert shown == truth, queue
        assert field(dom, Queue.TRANSFORM, "ready") == len(pending)
        assert field(dom, Queue.UPLOAD, "workers") == 1 and field(dom, Queue.TRANSFORM, "workers") == 0
        # Workers: exactly the live heartbeats.
        assert set(re.findall(r'data-worker-id="([^"]+)"', dom)) == {
            w.decode() for w in r.zrange(WORKERS_KEY, 0, -1)
        }
        # Images by status: counted from the records.
        ids = [i.decode() for acct in ("acme", "globex") for i in r.zrange(account_images_key(acct), 0, -1)]
        statuses = [r.hget(image_key(i), "status") for i in ids]
        for status in Status:
            shown_total = re.search(rf'data-status="{status.value}">(\d+)<', dom)
            assert shown_total is not None
            assert int(shown_total.group(1)) == statuses.count(status.value.encode()), status
        # Recent images (both accounts), failures with their reason, dead letters with a requeue button.
        assert set(re.findall(r'<figure data-image-id="([^"]+)" data-status="(\w+)"', dom)) == {
            (i, s.decode()) for i, s in zip(ids, statuses, strict=True) if s is not None
        }
        assert re.findall(r'<li data-image-id="([^"]+)" data-error-code="(\w+)"', dom) == [
            (broken.id, "media_failed")
        ]
        assert broken.error.message in dom
        dead_ids = {d.decode() for d in r.zrange(dead_key(Queue.PUBLISH), 0, -1)}
        assert set(re.findall(r'data-dead-id="([^"]+)"', dom)) == dead_ids and len(dead_ids) == 1
        assert "StorageUnavailable: The storage is unavailable." in dom
        assert f'data-requeue="{Queue.PUBLISH.value}"' in dom

        shot = screenshot(chromium, link, tmp_path / "dashboard.png")
        assert png_size(shot) == (1280, 900) and shot.stat().st_size > 20_000
        if os.environ.get("DARKROOM_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, SCREENSHOT)

        # The requeue button (a plain form POST) replays the dead letter.
        with httpx.Client(base_url=base_url, follow_redirects=False) as browser:
            assert browser.post("/dashboard/login", data={"key": "ops-key"}).status_code == 303
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/dashboard").text)
            assert csrf is not None
            answer = browser.post("/dashboard/requeue", data={"queue": "publish", "csrf": csrf.group(1)})
            assert answer.status_code == 303 and "requeued=1" in answer.headers["location"]
        assert r.zcard(dead_key(Queue.PUBLISH)) == 0 and r.llen(queue_key(Queue.PUBLISH)) == 1
    finally:
        acme.close()
        globex.close()
        pool.stop()
        api.stop()
