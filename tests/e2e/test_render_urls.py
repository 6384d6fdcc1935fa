"""Signed render URLs: right pixels, 403 when tampered, cached, purgeable, warmable.

Render, cache and purge run against both storages; a CDN purger (``CDN_PURGER=http``) on
loopback records what unpublish and every purge scope tell the CDN.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from PIL import Image as PILImage

from jobs.contract.errors import NotFound
from jobs.contract.settings import Settings
from tests.support.e2e import Stack
from tests.support.faults import storage_keys, wait_until
from tests.support.images import oriented_jpeg, rgb
from tests.support.sources import recording_endpoint
from tests.support.stack import start_worker

pytestmark = pytest.mark.e2e


def tamper(url: str) -> str:
    head, _, tail = url.partition("/render/")
    signature, rest = tail.split("/", 1)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}/render/{flipped}/{rest}"


def derived_objects(settings: Settings, image_id: str) -> list[str]:
    return [k for k in storage_keys(settings) if k.startswith(f"derived/{image_id}/")]


def test_render_cache_and_purge(any_storage_stack: Stack) -> None:
    stack = any_storage_stack
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(800, 600, 1)).id, timeout=60)
    url = client.render_url(image.id, [{"op": "resize", "width": 200}, {"op": "grayscale"}], "png")
    assert "/render/" in url and url.endswith(f"/{image.id}.png")

    first = httpx.get(url, timeout=60)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png" and first.headers["x-darkroom-cache"] == "miss"
    pixels = PILImage.open(io.BytesIO(first.content))
    assert pixels.size == (200, 150)
    r, g, b = rgb(pixels, (10, 10))
    assert r == g == b  # grayscale: the red corner became gray
    assert abs(r - 76) < 12  # luma of pure red
    assert len(derived_objects(stack.settings, image.id)) == 1  # cached at derived/{id}/{hash}.png

    assert httpx.get(tamper(url)).status_code == 403
    assert httpx.get(url.replace(f"{image.id}.png", f"{image.id}.jpg")).status_code == 403

    stack.worker.stop()  # no worker: the second request can only come from the cache
    second = httpx.get(url, timeout=10)
    assert second.status_code == 200 and second.headers["x-darkroom-cache"] == "hit"
    assert second.content == first.content
    not_modified = httpx.get(url, headers={"if-none-match": second.headers["etag"]})
    assert not_modified.status_code == 304

    client.purge("image", image_id=image.id)  # queued; no worker yet, so still cached
    stack.worker = start_worker(stack.settings, stack.log_dir, name="worker2")
    wait_until(lambda: derived_objects(stack.settings, image.id) == [], "the purge to run", timeout=60)
    again = httpx.get(url, timeout=60)
    assert again.status_code == 200 and again.headers["x-darkroom-cache"] == "miss"
    assert again.content == first.content  # rendered again, to the same pixels


def test_purge_urls_and_warmup(stack: Stack) -> None:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(400, 300, 1)).id, timeout=60)
    url = client.render_url(image.id, [{"op": "resize", "width": 50}], "webp")
    assert client.warmup([url]) == {"queued": 1, "cached": 0, "in_progress": 0}
    wait_until(lambda: client.warmup([url])["cached"] == 1, "warmup to render", timeout=60)
    warm = httpx.get(url)
    assert warm.headers["x-darkroom-cache"] == "hit"
    assert PILImage.open(io.BytesIO(warm.content)).size == (50, 38)
    client.purge("urls", urls=[url])
    wait_until(lambda: client.warmup([url])["cached"] == 0, "purge by URL to drop it", timeout=60)


@pytest.fixture
def cdn() -> Iterator[tuple[str, list[bytes]]]:
    with recording_endpoint() as endpoint:
        yield endpoint


def purged_urls(bodies: list[bytes]) -> list[set[str]]:
    return [set(json.loads(body)["urls"]) for body in bodies]


def test_the_cdn_hears_of_unpublish_and_of_every_purge_scope(
    make_stack: Callable[[Settings], Stack],
    make_settings: Callable[..., Settings],
    cdn: tuple[str, list[bytes]],
) -> None:
    endpoint, bodies = cdn
    stack = make_stack(make_settings(cdn_purger="http", cdn_purge_url=endpoint))
    client = stack.client
    a = client.wait(client.upload(oriented_jpeg(300, 200, 1), publish=True).id, timeout=60)
    b = client.wait(client.upload(oriented_jpeg(200, 300, 1)).id, timeout=60)
    a_public = {str(a.url), *(str(v.url) for v in a.sizes.values())}
    renders = {i.id: client.render_url(i.id, [{"op": "resize", "width": 40}], "png") for i in (a, b)}
    for url in renders.values():
        assert httpx.get(url, timeout=60).status_code == 200

    client.purge("urls", urls=[renders[b.id]])
    wait_until(lambda: len(bodies) == 1, "the CDN purge of one URL", timeout=60)
    assert purged_urls(bodies)[0] == {renders[b.id]}

    client.purge("image", image_id=a.id)  # its derivatives and its public copies
    wait_until(lambda: len(bodies) == 2, "the CDN purge of one image", timeout=60)
    assert purged_urls(bodies)[1] == {renders[a.id], *a_public}

    for url in renders.values():  # cache them again
        assert httpx.get(url, timeout=60).headers["x-darkroom-cache"] == "miss"
    purge_id = client.purge("all")
    wait_until(lambda: len(bodies) == 3, "the CDN purge of the account", timeout=60)
    assert purged_urls(bodies)[2] == {*renders.values(), *a_public}
    assert all(derived_objects(stack.settings, i) == [] for i in (a.id, b.id))
    status = client.purge_status(purge_id)
    assert (status["state"], status["objects"], status["urls"]) == ("done", 2, 2 + len(a_public))

    client.unpublish(a.id)
    wait_until(lambda: len(bodies) == 4, "the CDN purge on unpublish", timeout=60)
    assert purged_urls(bodies)[3] >= a_public  # the old public URLs, now gone from the origin
    with stack.other_client() as other, pytest.raises(NotFound):
        other.purge_status(purge_id)


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
