"""A job's input image (parent, watermark, rendered image) is checked by the one usable check;
a job cannot wait, so whatever makes the input unusable fails it as media_failed."""

from __future__ import annotations

import pytest

from jobs.contract.errors import MediaFailed
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.queue import redis_broker
from jobs.plumbing.store import Record
from worker.context import WorkerContext
from worker.pipeline.transform import usable_source

PROCESSING_ID = "image_" + "b" * 24
GONE_ID = "image_" + "c" * 24
READY_ID = "image_" + "d" * 24


async def test_unusable_inputs_fail_the_job_as_media_failed(settings: Settings) -> None:
    broker = redis_broker(settings)
    ctx = await WorkerContext.open(settings, broker)
    try:
        for image in (
            Image(id=PROCESSING_ID, name="p", filename="p.jpg"),
            Image(id=READY_ID, name="r", filename="r.png", status=Status.READY, format="png"),
        ):
            await ctx.store.create(Record(image=image, account="acme"))
        record, fmt = await usable_source(ctx, "acme", READY_ID, "watermark")
        assert (record.id, fmt) == (READY_ID, "png")
        expected = {
            PROCESSING_ID: "The watermark image is still processing.",
            GONE_ID: f"The watermark image {GONE_ID} no longer exists.",
        }
        for image_id, message in expected.items():
            with pytest.raises(MediaFailed) as raised:
                await usable_source(ctx, "acme", image_id, "watermark")
            assert raised.value.message == message
        with pytest.raises(MediaFailed, match="no longer exists"):  # another account's image
            await usable_source(ctx, "globex", READY_ID, "watermark")
    finally:
        await ctx.close()
        broker.close()
