"""publish / unpublish: public URLs serve the bytes, and stop serving them."""

from __future__ import annotations

import httpx
import pytest

from jobs.errors import Conflict, MediaFailed, NotFound
from jobs.states import Status
from tests.e2e.conftest import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e


def test_publish_then_unpublish(stack: Stack) -> None:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(1600, 1200, 1), filename="p.jpg").id, timeout=60)
    assert image.url is None and image.public is False

    published = client.publish(image.id)
    assert published.public is True and published.published_at is not None
    assert published.url is not None and published.url.startswith(f"{stack.base_url}/files/")
    master = httpx.get(published.url)
    assert master.status_code == 200 and master.content == client.download(image.id)
    for name, variant in published.sizes.items():
        assert variant.url is not None
        served = httpx.get(variant.url)
        assert served.status_code == 200 and served.content == client.download(image.id, size=name)
    assert client.publish(image.id) == published  # idempotent: nothing changes

    old_urls = [published.url, *(v.url for v in published.sizes.values())]
    unpublished = client.unpublish(image.id)
    assert unpublished.public is False and unpublished.url is None and unpublished.published_at is None
    assert all(v.url is None for v in unpublished.sizes.values())
    for url in old_urls:
        assert httpx.get(str(url)).status_code == 404
    assert len(client.download(image.id)) == image.nbytes  # still downloadable


def test_upload_with_publish_is_ready_and_public_at_once(stack: Stack) -> None:
    image = stack.client.upload(oriented_jpeg(500, 400, 1), publish=True)
    assert stack.client.publish(image.id).status == Status.PROCESSING  # requested with the job: accepted
    done = stack.client.wait(image.id, timeout=60)
    assert done.status == Status.READY and done.public is True and done.url
    assert httpx.get(done.url).status_code == 200


def test_publish_refuses_processing_and_failed_images(stack: Stack) -> None:
    bad = stack.client.wait(stack.client.upload(b"not an image", filename="x.jpg").id, timeout=60)
    with pytest.raises(MediaFailed):
        stack.client.publish(bad.id)
    stack.worker.stop()
    pending = stack.client.upload(oriented_jpeg(64, 64, 1))
    with pytest.raises(Conflict):
        stack.client.publish(pending.id)
    with stack.other_client() as other, pytest.raises(NotFound):
        other.publish(bad.id)
