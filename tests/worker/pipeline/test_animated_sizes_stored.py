"""An animated upload through the worker pipeline: stored size objects animate, and the Image
says so (``sizes.*.frames``), or says why not (``sizes.*.still_reason``)."""

from __future__ import annotations

import io
from dataclasses import replace

from PIL import Image as PILImage

from jobs.contract.constants import original_key, size_key
from jobs.contract.models import utcnow
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.services.publication import published, unpublished
from tests.support.imaging import encode
from tests.support.pipeline import processing_upload, with_ctx
from worker.context import WorkerContext
from worker.imaging import Limits, process_upload
from worker.imaging.budget import MiB
from worker.pipeline.rendition import complete, save_rendition
from worker.pipeline.upload import run_upload


def gif(size: tuple[int, int], count: int) -> bytes:
    images = [PILImage.new("RGB", size, (i * 40 % 256, 90, 200 - i * 9)) for i in range(count)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=[70] * count, loop=0)


def stored_frames(data: bytes) -> int:
    return int(PILImage.open(io.BytesIO(data)).n_frames)


async def test_an_animated_upload_stores_animated_sizes(settings: Settings) -> None:
    data = gif((1600, 300), 6)

    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx, "job-anim")
        await ctx.storage.put(original_key(job.image_id), data)
        await run_upload(ctx, job)
        image = (await ctx.store.load(job.image_id)).image
        assert image.status == Status.READY and image.format == "gif"
        for name, variant in image.sizes.items():
            stored = await ctx.storage.get(size_key(job.image_id, name, "gif"))
            assert stored_frames(stored) == 6, name
            assert (variant.frames, variant.still_reason) == (6, None), name
            assert PILImage.open(io.BytesIO(stored)).size == (variant.width, variant.height)

    await with_ctx(settings, body)


async def test_sizes_over_the_budget_say_why_on_the_image(settings: Settings) -> None:
    data = gif((600, 200), 20)  # animated sizes: ~19 MB of pixels; single-frame ones fit 16 MiB
    rendition = process_upload(data, replace(Limits(), max_memory=16 * MiB), threads=1)

    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx, "job-still")
        await save_rendition(ctx, job.image_id, rendition)
        done = await complete(ctx, job, rendition)
        assert done is not None
        small, medium = done.image.sizes["small"], done.image.sizes["medium"]
        assert small.frames == 1 and small.still_reason is not None
        assert "IMAGING_MEMORY_MB" in small.still_reason
        # medium does not shrink 600x200: it is the master's (animated) bytes, nothing to explain
        assert (medium.frames, medium.still_reason) == (20, None)
        stored = await ctx.storage.get(size_key(job.image_id, "small", "gif"))
        assert stored_frames(stored) == 1
        answer = done.image.model_dump(mode="json")["sizes"]["small"]
        assert answer["frames"] == 1 and answer["still_reason"] == small.still_reason
        # publishing and unpublishing rewrite the sizes' urls and keep what they say
        public = done.image.evolve(**published(settings, done.image, utcnow()))
        private = public.evolve(**unpublished(public))
        for image in (public, private):
            assert image.sizes["small"].model_copy(update={"url": None}) == small
            assert image.sizes["medium"].frames == 20
        assert public.sizes["small"].url is not None and private.sizes["small"].url is None

    await with_ctx(settings, body)
