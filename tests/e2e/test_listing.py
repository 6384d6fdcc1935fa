"""Paging through 250 images while new ones keep arriving: each exactly once."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.conftest import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e


def test_pagination_is_stable_under_concurrent_uploads(stack: Stack) -> None:
    client = stack.client
    small = oriented_jpeg(16, 16, 1)
    originals = [client.upload(small, name=f"orig-{i:03d}").id for i in range(250)]

    stop = threading.Event()
    added: list[str] = []

    def keep_uploading() -> None:
        with stack.other_client("k1") as writer:
            while not stop.is_set() and len(added) < 200:
                added.append(writer.upload(small, name="concurrent").id)

    writer = threading.Thread(target=keep_uploading)
    writer.start()
    seen: list[str] = []
    cursor = None
    try:
        while True:
            page = client.list(limit=17, cursor=cursor)
            seen += [image.id for image in page.data]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    finally:
        stop.set()
        writer.join()

    assert added, "the concurrent writer never ran"
    assert len(seen) == len(set(seen)), "an image was listed twice"
    walked = [i for i in seen if i in set(originals)]
    assert walked == list(reversed(originals)), "an original was skipped or out of order"
    # oldest-first walk sees the same set of originals
    ascending = [i.id for i in client.iter_images(sort="created_at", limit=100) if i.name.startswith("orig-")]
    assert ascending == originals
