"""complete(): one guarded write in the common case, and a fresh decision when publication moved."""

from __future__ import annotations

import asyncio
from typing import Any

from jobs.ids import new_image_id
from jobs.models import Image
from jobs.payloads import UploadJob
from jobs.settings import Settings
from jobs.states import Status
from jobs.store import Record
from tests.support.images import oriented_jpeg
from tests.worker.pipeline.conftest import with_ctx
from worker.context import WorkerContext
from worker.imaging import Limits, process_upload
from worker.pipeline.rendition import complete, save_rendition

LIMITS = Limits(max_pixels=10_000_000, max_frames=10, max_input_bytes=10_000_000)


async def processing(ctx: WorkerContext, job_id: str) -> tuple[Record, UploadJob]:
    image_id = new_image_id()
    record = Record(image=Image(id=image_id, name="cat", filename="cat.jpg"), account="acme")
    created = await ctx.store.create(record.with_job({"job_id": job_id, "kind": "upload"}, None))
    return created, UploadJob(image_id=image_id, account="acme", job_id=job_id)


def counting_loads(ctx: WorkerContext) -> list[str]:
    loads: list[str] = []
    original = ctx.store.load

    async def load(image_id: str) -> Any:
        loads.append(image_id)
        return await original(image_id)

    ctx.store.load = load  # type: ignore[method-assign]
    return loads


def test_a_claimed_record_is_completed_without_reading_it_again(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        claimed, job = await processing(ctx, "job-1")
        rendition = process_upload(oriented_jpeg(640, 480, 1), LIMITS)
        await save_rendition(ctx, job.image_id, rendition)
        loads = counting_loads(ctx)
        done = await complete(ctx, job, rendition, claimed=claimed)
        assert loads == []  # the claimed copy was current: only the guarded write
        assert done is not None and (done.status, done.image.width, done.version) == (Status.READY, 640, 2)
        assert (await ctx.store.load(job.image_id)).status == Status.READY

    asyncio.run(with_ctx(settings, body))


def test_publication_changed_since_the_claim_is_decided_again(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        claimed, job = await processing(ctx, "job-2")
        await ctx.store.update(job.image_id, lambda r: r.evolve(public=True))  # e.g. a publish landed
        rendition = process_upload(oriented_jpeg(640, 480, 1), LIMITS)
        await save_rendition(ctx, job.image_id, rendition)
        done = await complete(ctx, job, rendition, claimed=claimed)  # the claimed copy says private
        assert done is not None and done.status == Status.READY
        assert done.image.public is True and done.image.url is not None  # published, not dropped
        assert done.image.url.endswith(f"/{job.image_id}/master.jpg")
        assert await ctx.storage.head(f"public/{job.image_id}/master.jpg") is not None

    asyncio.run(with_ctx(settings, body))
