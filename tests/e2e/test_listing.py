"""Paging through 250 images while new ones keep arriving: each exactly once, in every order.

Newest-first, new uploads land behind the cursor; oldest-first they land ahead of it (the
walk runs into them); by name they land on both sides. In each order every image that
existed before the walk is listed exactly once and in order, and none is listed twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from jobs.client import Client
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e

ORIGINALS = 250
PAGE = 9
MAX_CONCURRENT = 600  # a bound, so no walk can chase the writer forever


class Writer:
    """Uploads on its own connection until stopped; ``added`` is in upload order."""

    def __init__(self, stack: Stack, data: bytes) -> None:
        self.stack, self.data = stack, data
        self.added: list[str] = []
        self.names: dict[str, str] = {}
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        try:
            self.upload_until_stopped()
        except BaseException as exc:  # surfaced by uploading(), not lost with the thread
            self.error = exc

    def upload_until_stopped(self) -> None:
        with self.stack.other_client("k1") as writer:
            while not self.stop.is_set() and len(self.added) < MAX_CONCURRENT:
                # names spread over the originals' range: by name they land before and after the cursor
                name = f"orig-{(len(self.added) * 97) % ORIGINALS:03d}-new"
                image_id = writer.upload(self.data, name=name).id
                self.names[image_id] = name
                self.added.append(image_id)  # last: whatever is in `added` is stored


@contextmanager
def uploading(stack: Stack, data: bytes) -> Iterator[Writer]:
    writer = Writer(stack, data)
    writer.thread.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        writer.thread.join(timeout=60)
    assert not writer.thread.is_alive()
    assert writer.error is None, f"the concurrent writer failed: {writer.error!r}"


def walk(client: Client, sort: str) -> list[str]:
    """Every id of one cursor walk, page by page."""
    seen: list[str] = []
    cursor = None
    while True:
        page = client.list(limit=PAGE, cursor=cursor, sort=sort)
        seen += [image.id for image in page.data]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def in_order(ids: list[str], names: dict[str, str], sort: str) -> list[str]:
    """``ids`` (in upload order) as the listing orders them: by created_at, or by (name, id)."""
    if sort == "name":
        return sorted(ids, key=lambda i: f"{names[i].lower()}\x00{i}")
    return list(reversed(ids)) if sort == "-created_at" else list(ids)


@dataclass(frozen=True)
class Walk:
    sort: str
    existing: list[str]  # every image stored when the walk started, in upload order
    seen: list[str]


def walk_while_uploading(client: Client, writer: Writer, originals: list[str], sort: str) -> Walk:
    before = len(writer.added)
    result = Walk(sort, originals + writer.added[:before], walk(client, sort))
    assert len(writer.added) > before, f"no upload completed during the {sort} walk"
    return result


def check(result: Walk, uploaded: set[str], names: dict[str, str]) -> None:
    """What existed at the start: exactly once and in order; the rest: at most once."""
    sort, seen = result.sort, result.seen
    assert len(seen) == len(set(seen)), f"{sort}: an image was listed twice"
    assert set(seen) <= uploaded, f"{sort}: listed an image nobody uploaded"
    walked = [i for i in seen if i in set(result.existing)]
    expected = in_order(result.existing, names, sort)
    assert walked == expected, f"{sort}: an existing image was skipped or out of order"


def test_pagination_is_stable_under_concurrent_uploads(stack: Stack) -> None:
    client = stack.client
    small = oriented_jpeg(16, 16, 1)
    originals = [client.upload(small, name=f"orig-{i:03d}").id for i in range(ORIGINALS)]
    with uploading(stack, small) as writer:
        # in this order, the later walks also start with uploads made during the earlier ones
        walks = [
            walk_while_uploading(client, writer, originals, s) for s in ("-created_at", "created_at", "name")
        ]
    assert len(writer.added) < MAX_CONCURRENT, "the writer ran out before the walks ended"
    names = writer.names | {image_id: f"orig-{i:03d}" for i, image_id in enumerate(originals)}
    for result in walks:
        check(result, set(originals) | set(writer.added), names)
    at_rest = [i.id for i in client.iter_images(sort="created_at", limit=100)]
    assert at_rest == originals + writer.added, "after the uploads stop, everything is listed once, in order"
