"""run_upload and the blocklist: one round trip checks the bytes and indexes the image by them."""

from __future__ import annotations

import asyncio
import hashlib
from typing import cast

import pytest

from jobs.constants import BLOCKLIST_KEY, original_key, originals_index_key
from jobs.errors import MediaBlocked
from jobs.payloads import UploadJob
from jobs.settings import Settings
from jobs.states import Status
from tests.support.images import oriented_jpeg
from tests.worker.pipeline.conftest import processing_upload, with_ctx
from worker.context import WorkerContext
from worker.pipeline.upload import run_upload

DATA = oriented_jpeg(120, 80, 1)
CHECKSUM = hashlib.sha256(DATA).hexdigest()


async def staged(ctx: WorkerContext) -> UploadJob:
    _, job = await processing_upload(ctx)
    await ctx.storage.put(original_key(job.image_id), DATA)
    return job


async def indexed(ctx: WorkerContext) -> set[str]:
    members = cast(set[bytes], await ctx.redis.smembers(originals_index_key(CHECKSUM)))
    return {m.decode() for m in members}


def test_an_upload_is_indexed_by_its_bytes(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        job = await staged(ctx)
        await run_upload(ctx, job)
        record = await ctx.store.load(job.image_id)
        assert (record.status, record.image.width, record.image.height) == (Status.READY, 120, 80)
        assert await indexed(ctx) == {job.image_id}  # what `darkroom block` looks up

    asyncio.run(with_ctx(settings, body))


def test_bytes_blocked_while_queued_are_refused_and_still_indexed(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        job = await staged(ctx)
        await ctx.redis.sadd(BLOCKLIST_KEY, CHECKSUM)
        with pytest.raises(MediaBlocked):
            await run_upload(ctx, job)
        assert await indexed(ctx) == {job.image_id}
        assert await ctx.storage.head(f"images/{job.image_id}/master.jpg") is None  # no work was done

    asyncio.run(with_ctx(settings, body))
