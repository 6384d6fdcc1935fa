"""run_upload and the blocklist: one round trip checks the bytes and indexes the image by them."""

from __future__ import annotations

import hashlib
from typing import cast

import pytest

from jobs.contract.constants import BLOCKLIST_KEY, original_key, originals_index_key
from jobs.contract.errors import MediaBlocked
from jobs.contract.payloads import BlockJob, UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.images import oriented_jpeg
from tests.support.pipeline import processing_upload, sent_jobs, with_ctx
from worker.context import WorkerContext
from worker.pipeline import upload
from worker.pipeline.block import run_block
from worker.pipeline.upload import run_upload

DATA = oriented_jpeg(120, 80, 1)
CHECKSUM = hashlib.sha256(DATA).hexdigest()


async def staged(ctx: WorkerContext, callback_url: str | None = None) -> UploadJob:
    _, job = await processing_upload(ctx, callback_url=callback_url)
    await ctx.storage.put(original_key(job.image_id), DATA)
    return job


async def indexed(ctx: WorkerContext) -> set[str]:
    members = cast(set[bytes], await ctx.redis.smembers(originals_index_key(CHECKSUM)))
    return {m.decode() for m in members}


async def test_an_upload_is_indexed_by_its_bytes(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        job = await staged(ctx)
        await run_upload(ctx, job)
        record = await ctx.store.load(job.image_id)
        assert (record.status, record.image.width, record.image.height) == (Status.READY, 120, 80)
        assert await indexed(ctx) == {job.image_id}  # what `darkroom block` looks up

    await with_ctx(settings, body)


async def test_bytes_blocked_while_queued_are_refused_and_still_indexed(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        job = await staged(ctx)
        await ctx.redis.sadd(BLOCKLIST_KEY, CHECKSUM)
        with pytest.raises(MediaBlocked):
            await run_upload(ctx, job)
        assert await indexed(ctx) == {job.image_id}
        assert await ctx.storage.head(f"images/{job.image_id}/master.jpg") is None  # no work was done

    await with_ctx(settings, body)


def block_before_saving(ctx: WorkerContext, job: UploadJob, monkeypatch: pytest.MonkeyPatch) -> None:
    """`darkroom block` lands while the job images: after the work, before its outputs are written."""
    save = upload.save_rendition

    async def block_then_save(*args: object, **kwargs: object) -> None:
        await ctx.redis.sadd(BLOCKLIST_KEY, CHECKSUM)
        await run_block(ctx, BlockJob(job_id="block-1", checksum=CHECKSUM))
        assert await ctx.storage.head(original_key(job.image_id)) is None  # the block's cleanup
        await save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(upload, "save_rendition", block_then_save)


@pytest.mark.parametrize("blocked_mid_job", [False, True])
async def test_a_block_landing_mid_job_leaves_no_bytes_and_sends_no_ready_webhook(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, blocked_mid_job: bool
) -> None:
    """The block fails the image and removes its bytes while the job images; the job then
    writes its outputs, loses the guarded write, removes what it wrote, and tells nobody
    the image is ready. Without the block, the same job ends ready with one webhook."""

    async def body(ctx: WorkerContext) -> None:
        job = await staged(ctx, callback_url="https://hooks.example/darkroom")
        sent = sent_jobs(ctx, monkeypatch)
        if blocked_mid_job:
            block_before_saving(ctx, job, monkeypatch)
        await run_upload(ctx, job)
        record = await ctx.store.load(job.image_id)
        stored = [o.key for o in await ctx.storage.list(f"images/{job.image_id}/")]
        if not blocked_mid_job:
            assert record.status == Status.READY and f"images/{job.image_id}/master.jpg" in stored
            assert [(j.event, j.image["status"]) for j in sent] == [("image.ready", "ready")]
            return
        assert record.status == Status.FAILED and record.image.error is not None
        assert record.image.error.code == MediaBlocked.code
        assert stored == []
        assert await ctx.storage.head(original_key(job.image_id)) is None
        assert sent == []

    await with_ctx(settings, body)
