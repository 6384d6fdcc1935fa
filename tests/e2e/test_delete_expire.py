"""delete and expiry leave nothing behind, in local storage and in S3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from jobs.contract.constants import image_key
from jobs.contract.errors import NotFound
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.faults import storage_keys, wait_until
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e


def keys_of(settings: Settings, image_id: str) -> list[str]:
    return [key for key in storage_keys(settings) if image_id in key]


def test_delete_leaves_no_object(any_storage_stack: Stack) -> None:
    stack = any_storage_stack
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(900, 600, 1), publish=True).id, timeout=60)
    client.render_url(image.id, [{"op": "blur", "sigma": 2}], "webp")
    httpx.get(client.render_url(image.id, [{"op": "blur", "sigma": 2}], "webp"), timeout=60)
    before = keys_of(stack.settings, image.id)
    assert any(k.startswith("public/") for k in before) and any(k.startswith("derived/") for k in before)
    assert f"originals/{image.id}" in before and f"records/{image.id}.json" in before

    client.delete(image.id)
    with pytest.raises(NotFound):
        client.get(image.id)  # gone for readers at once
    assert image.id not in [i.id for i in client.list().data]
    wait_until(lambda: keys_of(stack.settings, image.id) == [], "every object to be deleted", timeout=30)
    assert not redis.Redis.from_url(stack.settings.redis_url).exists(image_key(image.id))


SWEEP_S = 1.0


@pytest.fixture
def expiring_stack(make_stack: Callable[[Settings], Stack], storage_settings: Settings) -> Stack:
    return make_stack(storage_settings.model_copy(update={"expire_sweep_interval": SWEEP_S}))


def test_expired_image_is_swept(expiring_stack: Stack) -> None:
    """Both storages: gone within a sweep period of ``expires_at`` (plus the delete job itself)."""
    client = expiring_stack.client
    expires = datetime.now(UTC) + timedelta(seconds=2)
    image = client.upload(oriented_jpeg(300, 200, 1), expires_at=expires)
    assert client.wait(image.id, timeout=60).status == Status.READY
    assert keys_of(expiring_stack.settings, image.id) != []
    left = (expires - datetime.now(UTC)).total_seconds()
    # the default sweep (30 s) would miss this bound: the setting is what makes it hold
    wait_until(
        lambda: keys_of(expiring_stack.settings, image.id) == [], "the sweep", timeout=left + SWEEP_S + 10
    )
    with pytest.raises(NotFound):
        client.get(image.id)
    r = redis.Redis.from_url(expiring_stack.settings.redis_url)
    assert not r.exists(image_key(image.id))
