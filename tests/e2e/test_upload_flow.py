"""An upload travels producer → Redis → Dramatiq worker → storage → Image ``ready``."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image as PILImage

from jobs.contract.constants import SIZES
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.images import IMAGE_FIELDS, oriented_jpeg, pixel

pytestmark = pytest.mark.e2e


def poll_until_settled(base_url: str, image_id: str, key: str = "k1", timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{base_url}/v1/images/{image_id}", headers={"x-api-key": key})
        if response.status_code != 200 or response.json()["status"] != "processing":
            return response
        assert time.monotonic() < deadline, "image stuck in processing"
        time.sleep(0.1)


def test_http_upload_of_exif_rotated_jpeg_reaches_ready(any_storage_stack: Stack) -> None:
    stack = any_storage_stack
    source = oriented_jpeg(3000, 2000, orientation=6)
    accepted = httpx.post(
        f"{stack.base_url}/v1/images/upload",
        headers={"x-api-key": "k1"},
        files={"file": ("photo.jpg", source, "image/jpeg")},
        timeout=30,
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "processing"
    image_id = accepted.json()["id"]

    settled = poll_until_settled(stack.base_url, image_id)
    assert settled.status_code == 200, settled.text
    body = settled.json()
    assert set(body) == IMAGE_FIELDS
    assert body["status"] == "ready" and body["error"] is None and body["format"] == "jpeg"
    assert (body["width"], body["height"]) == (2000, 3000)  # EXIF orientation 6 applied
    assert body["bytes"] == body["size"] and body["bytes"] > 0
    assert body["placeholder"] and body["transformable"] is True and body["version"] == 2

    master = httpx.get(f"{stack.base_url}/v1/images/{image_id}/download", headers={"x-api-key": "k1"})
    assert master.status_code == 200 and master.headers["content-type"] == "image/jpeg"
    assert len(master.content) == body["bytes"]
    assert body["checksum"] == "sha256:" + hashlib.sha256(master.content).hexdigest()
    decoded = PILImage.open(io.BytesIO(master.content))
    assert decoded.size == (2000, 3000)
    assert not decoded.getexif() and "exif" not in decoded.info
    # The source's top-left quadrant was red; rotated 90° clockwise it is now top-right.
    rgb = decoded.convert("RGB")
    r, g, b = pixel(rgb, (1900, 100))
    assert r > 200 and g < 60 and b < 60
    r, g, b = pixel(rgb, (100, 100))
    assert b > 200 and r < 60

    for size, (box_w, box_h) in SIZES.items():
        variant = body["sizes"][size]
        assert variant["url"] is None  # unpublished
        assert variant["width"] <= box_w and variant["height"] <= box_h
        assert variant["width"] == box_w or variant["height"] == box_h  # fits the box tightly
        got = httpx.get(
            f"{stack.base_url}/v1/images/{image_id}/download",
            params={"size": size},
            headers={"x-api-key": "k1"},
        )
        assert got.status_code == 200
        assert PILImage.open(io.BytesIO(got.content)).size == (variant["width"], variant["height"])
    assert body["sizes"]["large"] == {
        "url": None, "width": 720, "height": 1080, "frames": 1, "still_reason": None
    }  # fmt: skip


def test_client_upload_and_wait(any_storage_stack: Stack) -> None:
    client = any_storage_stack.client
    small = oriented_jpeg(300, 200, orientation=1)
    image = client.upload(small, filename="small.jpg", metadata={"k": "v"})
    assert image.status == Status.PROCESSING
    done = client.wait(image.id, timeout=60)
    assert done.status == Status.READY and (done.width, done.height) == (300, 200)
    # never enlarged: a 300×200 image keeps its size for every variant box
    assert {name: (v.width, v.height) for name, v in done.sizes.items()} == {
        "small": (300, 200),
        "medium": (300, 200),
        "large": (300, 200),
    }
    assert done.metadata == {"k": "v"}
    assert [i.id for i in client.list().data] == [image.id]
    assert PILImage.open(io.BytesIO(client.download(image.id))).size == (300, 200)


def test_text_named_jpg_fails_and_the_worker_keeps_serving(stack: Stack) -> None:
    bad = stack.client.upload(b"hello, I am not a picture\n" * 10, filename="evil.jpg")
    failed = stack.client.wait(bad.id, timeout=60)
    assert failed.status == Status.FAILED
    assert failed.error is not None and failed.error.code == "media_failed" and failed.error.message
    assert failed.width is None and failed.format is None

    raw = httpx.get(f"{stack.base_url}/v1/images/{bad.id}", headers={"x-api-key": "k1"})
    assert raw.status_code == 422 and raw.json()["error"] == "media_failed"
    assert raw.json()["image"]["status"] == "failed"
    download = httpx.get(f"{stack.base_url}/v1/images/{bad.id}/download", headers={"x-api-key": "k1"})
    assert download.status_code == 422

    good = stack.client.upload(oriented_jpeg(64, 48, orientation=1), filename="good.jpg")
    assert stack.client.wait(good.id, timeout=60).status == Status.READY
    assert stack.worker.alive()


class _ImageHandler(BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/pics/sunset.jpg")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[str]:
    _ImageHandler.payload = oriented_jpeg(400, 300, orientation=1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_upload_from_url_follows_a_redirect(stack: Stack, image_server: str) -> None:
    image = stack.client.upload_url(f"{image_server}/redirect", name="sunset")
    done = stack.client.wait(image.id, timeout=60)
    assert done.status == Status.READY, done.error
    assert (done.width, done.height) == (400, 300) and done.name == "sunset"
