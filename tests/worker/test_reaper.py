"""The reaper re-sends lost jobs (same job id) and finally fails the image: nothing stays processing."""

from __future__ import annotations

import asyncio
import time

from jobs.contract.constants import DEADLINES_KEY
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from tests.support.doubles import RecordingQueue
from tests.support.worker_ctx import make_worker_ctx
from worker.reaper import MAX_RESENDS, reap


async def test_lost_job_is_resent_then_failed(settings: Settings) -> None:
    queue = RecordingQueue()
    ctx = await make_worker_ctx(settings.model_copy(update={"stuck_after": 0.2}), queue=queue)
    redis, store = ctx.redis, ctx.store
    image_id = new_image_id()
    job = UploadJob(image_id=image_id, account="acme", job_id="j1")
    past = time.time() - 1
    await store.create(
        Record(Image(id=image_id, name="n", filename="n"), "acme", job.to_message_args(), past)
    )

    for round_ in range(1, MAX_RESENDS + 1):
        assert (await reap(ctx))["resent"] == 1
        assert [j.job_id for j in queue.sent] == ["j1"] * round_  # the same job, not a new one
        record = await store.load(image_id)
        assert record.status == Status.PROCESSING and record.extra["resends"] == round_
        assert (await reap(ctx))["resent"] == 0  # not due again yet
        await asyncio.sleep(0.25)

    assert (await reap(ctx))["failed"] == 1
    failed = await store.load(image_id)
    assert failed.status == Status.FAILED and failed.image.error is not None
    assert failed.image.error.code == "timeout"
    assert await redis.zscore(DEADLINES_KEY, image_id) is None
    await ctx.close()


async def test_finished_images_leave_the_deadline_index(settings: Settings) -> None:
    ctx = await make_worker_ctx(settings, queue=RecordingQueue())
    redis, store = ctx.redis, ctx.store
    image_id = new_image_id()
    await store.create(Record(Image(id=image_id, name="n", filename="n"), "acme", None, time.time() - 1))
    await store.update(image_id, lambda r: r.evolve(status=Status.READY))
    await redis.zadd(DEADLINES_KEY, {image_id: time.time() - 1})  # a stale index entry
    await redis.zadd(DEADLINES_KEY, {new_image_id(): time.time() - 1})  # a deleted image's entry
    counts = await reap(ctx)
    assert counts == {"resent": 0, "failed": 0, "cleared": 2}
    assert await redis.zcard(DEADLINES_KEY) == 0
    await ctx.close()
