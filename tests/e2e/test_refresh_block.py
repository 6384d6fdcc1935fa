"""refresh re-fetches URL-sourced images; the blocklist fails existing copies and refuses new ones."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis

from jobs.contract.constants import EVENTS_KEY
from jobs.contract.errors import InvalidRequest, MediaBlocked
from jobs.contract.models import Image
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.faults import claimed_messages, wait_until
from tests.support.images import oriented_jpeg
from tests.support.sources import StaticSource, static_source
from tests.support.stack import ROOT, process_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def source() -> Iterator[StaticSource]:
    with static_source(oriented_jpeg(300, 200, 1)) as origin:
        yield origin


def wait_for(check: Callable[[], Image | None], timeout: float = 30) -> Image:
    deadline = time.monotonic() + timeout
    while True:
        image = check()
        if image is not None:
            return image
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def statuses(redis_url: str, image_id: str) -> list[tuple[str, int]]:
    """The image's transitions as the events stream recorded them: (status, version)."""
    client = redis.Redis.from_url(redis_url)
    try:
        entries = client.xrange(EVENTS_KEY)
    finally:
        client.close()
    return [
        (fields[b"status"].decode(), int(fields[b"version"]))
        for _, fields in entries
        if fields[b"id"].decode() == image_id and fields[b"version"] != b"0"
    ]


def test_refresh_reprocesses_only_changed_bytes(any_storage_stack: Stack, source: StaticSource) -> None:
    stack = any_storage_stack
    client = stack.client
    image = client.wait(client.upload_url(source.url).id, timeout=60)
    assert (image.status, image.width, image.height) == (Status.READY, 300, 200)
    assert source.hits == 1

    client.refresh(image.id)  # same bytes: fetched again, then nothing happens
    wait_until(lambda: source.hits == 2, "the refresh to re-fetch", timeout=30)
    wait_until(lambda: claimed_messages(stack.settings.redis_url) == 0, "the refresh job to end", timeout=30)
    assert client.get(image.id).version == image.version
    before = statuses(stack.settings.redis_url, image.id)

    source.body = oriented_jpeg(640, 480, 1)
    client.refresh(image.id)

    def refreshed() -> Image | None:
        current = client.get(image.id)
        return current if current.width == 640 and current.status == Status.READY else None

    changed = wait_for(refreshed)
    assert (changed.width, changed.height) == (640, 480) and changed.version > image.version
    assert len(client.download(image.id)) == changed.nbytes
    transitions = [status for status, _ in statuses(stack.settings.redis_url, image.id)[len(before) :]]
    assert transitions == ["processing", "ready"]  # ready → processing → ready

    uploaded = client.wait(client.upload(oriented_jpeg(10, 10, 1)).id, timeout=60)
    with pytest.raises(InvalidRequest):
        client.refresh(uploaded.id)  # not from a URL


def test_block_fails_existing_images_and_refuses_new_uploads(any_storage_stack: Stack) -> None:
    stack = any_storage_stack
    client = stack.client
    data = oriented_jpeg(320, 240, 1)
    image = client.wait(client.upload(data, publish=True).id, timeout=60)
    assert image.public and image.url and httpx.get(image.url).status_code == 200
    other = client.wait(client.upload(oriented_jpeg(32, 24, 1)).id, timeout=60)

    checksum = hashlib.sha256(data).hexdigest()
    result = subprocess.run(
        [sys.executable, "-m", "jobs.cli.main", "block", f"sha256:{checksum}"],
        env=process_env(stack.settings), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    blocked = wait_for(lambda: ((i := client.get(image.id)).status == Status.FAILED and i) or None)
    assert blocked.error is not None and blocked.error.code == "media_blocked"
    assert blocked.public is False and blocked.url is None
    assert httpx.get(image.url).status_code == 404
    assert client.get(other.id).status == Status.READY  # other content untouched
    with pytest.raises(MediaBlocked):
        client.upload(data)

    bad = subprocess.run(
        [sys.executable, "-m", "jobs.cli.main", "block", "not-a-hash"],
        env=process_env(stack.settings), cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "SHA-256" in bad.stderr
