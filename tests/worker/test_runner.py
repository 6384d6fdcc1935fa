"""run_job: permanent errors fail the image; a job cut off by the pool's own shutdown never does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jobs.contract.errors import MediaFailed, SourceUnreachable
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.pipeline import processing_upload, with_ctx
from worker import context
from worker.context import WorkerContext
from worker.runner import run_job


async def run_as_current(
    ctx: WorkerContext, job: UploadJob, pipeline: Callable[[WorkerContext, UploadJob], Awaitable[None]]
) -> str:
    """run_job as a worker thread runs it: with ``ctx`` as the process's current context."""
    context.set_current(ctx)
    try:
        return await run_job(job.to_message_args(), pipeline, attempt=1)
    finally:
        context.set_current(None)


async def test_a_permanent_error_fails_the_image(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx)

        async def broken(ctx: WorkerContext, job: UploadJob) -> None:
            raise MediaFailed("cannot decode")

        assert await run_as_current(ctx, job, broken) == "failed"
        failed = await ctx.store.load(job.image_id)
        assert failed.status == Status.FAILED and failed.image.error is not None
        assert failed.image.error.code == "media_failed"

    await with_ctx(settings, body)


async def test_an_error_while_the_pool_closes_its_clients_is_not_the_images_fault(settings: Settings) -> None:
    """Past the grace period the job was requeued; its fetch then fails as the http client closes."""

    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx)

        async def cut_off(ctx: WorkerContext, job: UploadJob) -> None:
            ctx.closing = True  # what WorkerContext.close() sets before closing the clients
            raise SourceUnreachable("Fetching http://origin/x.jpg failed: ReadError.")

        try:
            assert await run_as_current(ctx, job, cut_off) == "abandoned"
        finally:
            ctx.closing = False
        still = await ctx.store.load(job.image_id)
        assert still.status == Status.PROCESSING and still.job_id == "job-1"  # the requeued copy owns it

    await with_ctx(settings, body)
