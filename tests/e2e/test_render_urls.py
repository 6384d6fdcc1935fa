"""Signed render URLs: right pixels, 403 when tampered, cached, purgeable, warmable."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image as PILImage

from jobs.errors import NotFound
from tests.e2e.conftest import Stack
from tests.support.images import oriented_jpeg
from tests.support.stack import start_worker

pytestmark = pytest.mark.e2e


def tamper(url: str) -> str:
    head, _, tail = url.partition("/render/")
    signature, rest = tail.split("/", 1)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}/render/{flipped}/{rest}"


def test_render_cache_and_purge(stack: Stack) -> None:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(800, 600, 1)).id, timeout=60)
    url = client.render_url(image.id, [{"op": "resize", "width": 200}, {"op": "grayscale"}], "png")
    assert "/render/" in url and url.endswith(f"/{image.id}.png")

    first = httpx.get(url, timeout=60)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png" and first.headers["x-darkroom-cache"] == "miss"
    pixels = PILImage.open(io.BytesIO(first.content))
    assert pixels.size == (200, 150)
    r, g, b = pixels.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
    assert r == g == b  # grayscale: the red corner became gray
    assert abs(r - 76) < 12  # luma of pure red

    assert httpx.get(tamper(url)).status_code == 403
    assert httpx.get(url.replace(f"{image.id}.png", f"{image.id}.jpg")).status_code == 403

    stack.worker.stop()  # no worker: the second request can only come from the cache
    second = httpx.get(url, timeout=10)
    assert second.status_code == 200 and second.headers["x-darkroom-cache"] == "hit"
    assert second.content == first.content
    not_modified = httpx.get(url, headers={"if-none-match": second.headers["etag"]})
    assert not_modified.status_code == 304

    stack.worker = start_worker(stack.settings, stack.log_dir, name="worker2")
    client.purge("image", image_id=image.id)
    for _ in range(100):
        again = httpx.get(url, timeout=60)
        if again.headers.get("x-darkroom-cache") == "miss":
            break
    assert again.status_code == 200 and again.headers["x-darkroom-cache"] == "miss"


def test_purge_urls_and_warmup(stack: Stack) -> None:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(400, 300, 1)).id, timeout=60)
    url = client.render_url(image.id, [{"op": "resize", "width": 50}], "webp")
    assert client.warmup([url]) == {"queued": 1, "cached": 0, "in_progress": 0}
    for _ in range(200):
        if client.warmup([url])["cached"] == 1:
            break
    assert httpx.get(url).headers["x-darkroom-cache"] == "hit"
    client.purge("urls", urls=[url])
    for _ in range(200):
        if client.warmup([url])["cached"] == 0:
            break
    else:
        pytest.fail("purge by URL did not drop the cached derivative")


def test_render_endpoints_are_account_scoped(stack: Stack) -> None:
    image = stack.client.wait(stack.client.upload(oriented_jpeg(64, 64, 1)).id, timeout=60)
    url = stack.client.render_url(image.id, [], "jpeg")
    with stack.other_client() as other:
        with pytest.raises(NotFound):
            other.render_url(image.id, [], "jpeg")
        with pytest.raises(NotFound):
            other.warmup([url])
        with pytest.raises(NotFound):
            other.purge("urls", urls=[url])
        with pytest.raises(NotFound):
            other.purge("image", image_id=image.id)
