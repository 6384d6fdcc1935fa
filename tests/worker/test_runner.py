"""run_job: permanent errors fail the image; a job cut off by the pool's own shutdown never does."""

from __future__ import annotations

import asyncio

from jobs.errors import MediaFailed, SourceUnreachable
from jobs.ids import new_image_id
from jobs.models import Image
from jobs.payloads import UploadJob
from jobs.settings import Settings
from jobs.states import Status
from jobs.store import Record
from tests.worker.pipeline.conftest import with_ctx
from worker import context
from worker.context import WorkerContext
from worker.runner import run_job


async def processing_upload(ctx: WorkerContext) -> UploadJob:
    image_id = new_image_id()
    record = Record(image=Image(id=image_id, name="cat", filename="cat.jpg"), account="acme")
    await ctx.store.create(record.with_job({"job_id": "job-1", "kind": "upload"}, None))
    return UploadJob(image_id=image_id, account="acme", job_id="job-1")


def test_a_permanent_error_fails_the_image(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        job = await processing_upload(ctx)

        async def broken(ctx: WorkerContext, job: UploadJob) -> None:
            raise MediaFailed("cannot decode")

        context.set_current(ctx)
        try:
            assert await run_job(job.to_message_args(), broken, attempt=1) == "failed"
        finally:
            context.set_current(None)
        failed = await ctx.store.load(job.image_id)
        assert failed.status == Status.FAILED and failed.image.error is not None
        assert failed.image.error.code == "media_failed"

    asyncio.run(with_ctx(settings, body))


def test_an_error_while_the_pool_closes_its_clients_is_not_the_images_fault(settings: Settings) -> None:
    """Past the grace period the job was requeued; its fetch then fails as the http client closes."""

    async def body(ctx: WorkerContext) -> None:
        job = await processing_upload(ctx)

        async def cut_off(ctx: WorkerContext, job: UploadJob) -> None:
            ctx.closing = True  # what WorkerContext.close() sets before closing the clients
            raise SourceUnreachable("Fetching http://origin/x.jpg failed: ReadError.")

        context.set_current(ctx)
        try:
            assert await run_job(job.to_message_args(), cut_off, attempt=1) == "abandoned"
        finally:
            context.set_current(None)
            ctx.closing = False
        still = await ctx.store.load(job.image_id)
        assert still.status == Status.PROCESSING and still.job_id == "job-1"  # the requeued copy owns it

    asyncio.run(with_ctx(settings, body))
