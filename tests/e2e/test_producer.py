"""Direct producers: enqueue through Redis without the HTTP hop, processed by the same workers."""

from __future__ import annotations

import pytest

from jobs.contract.states import Status
from jobs.services.intake import UploadOptions
from jobs.services.producer import Producer
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e


async def test_producer_upload_transform_publish(stack: Stack) -> None:
    async with Producer.connect(stack.settings) as dr:
        image = await dr.upload("acme", oriented_jpeg(640, 480, 1), UploadOptions(name="direct"))
        assert image.status == Status.PROCESSING
        ready = await dr.wait("acme", image.id, timeout=60)
        assert (ready.status, ready.width, ready.height) == (Status.READY, 640, 480)
        child = await dr.transform("acme", image.id, [{"op": "resize", "width": 64}])
        child = await dr.wait("acme", child.id, timeout=60)
        assert (child.width, child.height, child.parent_id) == (64, 48, image.id)
        outcome = await dr.publish("acme", image.id)
        assert outcome.done and outcome.image.url
        page = await dr.list("acme")
        assert {i.id for i in page.data} == {image.id, child.id}
    # the HTTP view agrees: it is the same store
    assert stack.client.get(stack.client.list().data[-1].id).name == "direct"
