"""A Pillow size error inside a job's imaging fails the image with ``too_large`` at once: it is
not an unexpected exception for Dramatiq to retry (the review saw such a job run 6 times)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image as PILImage

from jobs.contract.operations import validate_operations
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.pipeline import processing_upload, with_ctx
from tests.worker.test_runner import run_as_current
from worker.context import WorkerContext
from worker.imaging import render


async def test_a_decompression_bomb_inside_the_imaging_fails_the_image_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bomb(self: PILImage.Image, method: Any) -> PILImage.Image:
        raise PILImage.DecompressionBombError("Image size (525504000 pixels) exceeds limit")

    monkeypatch.setattr(PILImage.Image, "transpose", bomb)
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32)).save(buffer, "PNG")

    async def imaging(ctx: WorkerContext, job: UploadJob) -> None:
        await ctx.imaging(render, buffer.getvalue(), validate_operations([{"op": "flip"}]), ctx.limits)

    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx)
        assert await run_as_current(ctx, job, imaging) == "failed"  # not raised: nothing to retry
        failed = await ctx.store.load(job.image_id)
        assert failed.status == Status.FAILED and failed.image.error is not None
        assert failed.image.error.code == "too_large"

    await with_ctx(settings, body)
