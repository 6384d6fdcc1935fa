"""complete(): one guarded write in the common case, and a fresh decision when publication moved."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

from PIL import Image as PILImage

from jobs.contract.constants import master_key, original_key, size_key
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.images import oriented_jpeg
from tests.support.pipeline import processing_upload, with_ctx
from worker.context import WorkerContext
from worker.imaging import Limits, process_upload
from worker.imaging.types import Rendition
from worker.pipeline.rendition import complete, save_rendition

LIMITS = Limits(max_pixels=10_000_000, max_frames=10, max_input_bytes=10_000_000)


def counting_loads(ctx: WorkerContext) -> list[str]:
    loads: list[str] = []
    original = ctx.store.load

    async def load(image_id: str) -> Any:
        loads.append(image_id)
        return await original(image_id)

    ctx.store.load = load  # type: ignore[method-assign]
    return loads


async def test_a_claimed_record_is_completed_without_reading_it_again(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        claimed, job = await processing_upload(ctx, "job-1")
        rendition = process_upload(oriented_jpeg(640, 480, 1), LIMITS)
        await save_rendition(ctx, job.image_id, rendition)
        loads = counting_loads(ctx)
        done = await complete(ctx, job, rendition, claimed=claimed)
        assert loads == []  # the claimed copy was current: only the guarded write
        assert done is not None and (done.status, done.image.width, done.version) == (Status.READY, 640, 2)
        assert (await ctx.store.load(job.image_id)).status == Status.READY

    await with_ctx(settings, body)


async def test_publication_changed_since_the_claim_is_decided_again(settings: Settings) -> None:
    async def body(ctx: WorkerContext) -> None:
        claimed, job = await processing_upload(ctx, "job-2")
        await ctx.store.update(job.image_id, lambda r: r.evolve(public=True))  # e.g. a publish landed
        rendition = process_upload(oriented_jpeg(640, 480, 1), LIMITS)
        await save_rendition(ctx, job.image_id, rendition)
        done = await complete(ctx, job, rendition, claimed=claimed)  # the claimed copy says private
        assert done is not None and done.status == Status.READY
        assert done.image.public is True and done.image.url is not None  # published, not dropped
        assert done.image.url.endswith(f"/{job.image_id}/master.jpg")
        assert await ctx.storage.head(f"public/{job.image_id}/master.jpg") is not None

    await with_ctx(settings, body)


def plain_jpeg(width: int, height: int) -> bytes:
    """A JPEG with nothing to strip or rotate: the upload passes its bytes through as the master."""
    buf = io.BytesIO()
    PILImage.new("RGB", (width, height), (10, 200, 30)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


async def test_outputs_identical_to_the_original_are_storage_side_copies(settings: Settings) -> None:
    """Local storage: the master (and a ``large`` that is the original) are links, not new bytes."""
    data = plain_jpeg(900, 600)  # under the large size: large is the original too

    async def body(ctx: WorkerContext) -> Rendition:
        _, job = await processing_upload(ctx, "job-3")
        rendition = process_upload(data, LIMITS)
        await ctx.storage.put(original_key(job.image_id), data)
        await save_rendition(ctx, job.image_id, rendition, source=(original_key(job.image_id), data))
        for key, variant in stored_objects(job.image_id, rendition):
            assert await ctx.storage.get(key) == variant.data, key
        inode = os.stat(root / original_key(job.image_id)).st_ino
        linked = {
            key for key, _ in stored_objects(job.image_id, rendition) if os.stat(root / key).st_ino == inode
        }
        assert linked == {master_key(job.image_id, "jpeg"), size_key(job.image_id, "large", "jpeg")}
        digest = hashlib.sha256(data).hexdigest()
        done = await complete(ctx, job, rendition, source=(data, digest))
        assert done is not None and done.image.checksum == f"sha256:{digest}"
        return rendition

    root = settings.local_storage_root
    rendition = await with_ctx(settings, body)
    assert rendition.master.data == data and rendition.sizes["large"].data == data
    assert len(rendition.sizes["small"].data) < len(data)  # the others were encoded and written


async def test_a_rotated_master_is_written_not_linked(settings: Settings) -> None:
    data = oriented_jpeg(640, 480, 6)

    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx, "job-4")
        rendition = process_upload(data, LIMITS)
        await ctx.storage.put(original_key(job.image_id), data)
        await save_rendition(ctx, job.image_id, rendition, source=(original_key(job.image_id), data))
        master = settings.local_storage_root / master_key(job.image_id, "jpeg")
        assert os.stat(master).st_nlink == 1 and (rendition.master.width, rendition.master.height) == (
            480,
            640,
        )
        assert await ctx.storage.get(master_key(job.image_id, "jpeg")) == rendition.master.data != data
        done = await complete(ctx, job, rendition, source=(data, hashlib.sha256(data).hexdigest()))
        assert done is not None  # the checksum is the master's, not the original's
        assert done.image.checksum == "sha256:" + hashlib.sha256(rendition.master.data).hexdigest()

    await with_ctx(settings, body)


def stored_objects(image_id: str, rendition: Rendition) -> list[tuple[str, Any]]:
    objects = [(master_key(image_id, rendition.master.format), rendition.master)]
    return objects + [(size_key(image_id, n, v.format), v) for n, v in rendition.sizes.items()]
