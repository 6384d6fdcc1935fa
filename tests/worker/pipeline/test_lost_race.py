"""A job whose final compare-and-set loses removes what it wrote — and only what the winner
does not own.

Each case lets the upload do its work and write its outputs, then has another party decide
the image before the job's guarded write: a block, a failure, a newer job that finished with
another format, a duplicate delivery of the same job that finished first (same keys), or a
newer job still processing (which may be writing the same keys right now).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import pytest

from jobs.contract.constants import BLOCKLIST_KEY, master_key, original_key, record_key
from jobs.contract.models import ImageError, SizeVariant
from jobs.contract.payloads import BlockJob, UploadJob
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from tests.support.images import oriented_jpeg
from tests.support.pipeline import processing_upload, with_ctx
from worker.context import WorkerContext
from worker.imaging.types import Rendition
from worker.pipeline import upload
from worker.pipeline.block import run_block
from worker.pipeline.upload import run_upload

DATA = oriented_jpeg(1000, 700, 1)  # big enough for sizes: the master and two of them are written
CHECKSUM = hashlib.sha256(DATA).hexdigest()
Winner = Callable[[WorkerContext, str, Rendition], Awaitable[None]]


async def blocked(ctx: WorkerContext, image_id: str, rendition: Rendition) -> None:
    await ctx.redis.sadd(BLOCKLIST_KEY, CHECKSUM)
    await run_block(ctx, BlockJob(job_id="block-1", checksum=CHECKSUM))


async def failed(ctx: WorkerContext, image_id: str, rendition: Rendition) -> None:
    error = ImageError(code="timeout", message="The job ran out of time.")
    await ctx.store.update(
        image_id, lambda r: r.evolve(status=Status.FAILED, error=error).with_job(None, None)
    )


def taken_over(r: Record) -> Record:
    return r.with_job({"job_id": "job-2", "kind": "upload"}, None)


async def newer_job_finished_as_png(ctx: WorkerContext, image_id: str, rendition: Rendition) -> None:
    await ctx.store.update(image_id, taken_over)
    await ctx.storage.put(master_key(image_id, "png"), b"png master of job-2")
    await ctx.store.update(
        image_id, lambda r: r.evolve(status=Status.READY, format="png", sizes={}).with_job(None, None)
    )


async def duplicate_finished_first(ctx: WorkerContext, image_id: str, rendition: Rendition) -> None:
    """The same job delivered twice: the other delivery wrote the same keys and won."""
    sizes = {n: SizeVariant(width=v.width, height=v.height) for n, v in rendition.sizes.items()}
    await ctx.store.update(
        image_id, lambda r: r.evolve(status=Status.READY, format="jpeg", sizes=sizes).with_job(None, None)
    )


async def newer_job_processing(ctx: WorkerContext, image_id: str, rendition: Rendition) -> None:
    await ctx.store.update(image_id, taken_over)


def decided_before_complete(ctx: WorkerContext, winner: Winner, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Have ``winner`` decide the image right after the job saved its outputs; returns their keys."""
    save, saved = upload.save_rendition, []

    async def save_then_lose(ctx_: WorkerContext, image_id: str, rendition: Rendition, **kw: object) -> None:
        await save(ctx_, image_id, rendition, **kw)  # type: ignore[arg-type]
        saved.extend(o.key for o in await ctx.storage.list(f"images/{image_id}/"))
        await winner(ctx, image_id, rendition)

    monkeypatch.setattr(upload, "save_rendition", save_then_lose)
    return saved


def nothing(image_id: str, saved: list[str]) -> list[str]:
    return []


def what_it_saved(image_id: str, saved: list[str]) -> list[str]:
    return sorted(saved)


@pytest.mark.parametrize(
    ("winner", "status", "images_left", "original_left"),
    [
        (blocked, Status.FAILED, nothing, False),
        (failed, Status.FAILED, nothing, True),  # a failed upload keeps its original (retry)
        (newer_job_finished_as_png, Status.READY, lambda i, _: [master_key(i, "png")], True),
        (duplicate_finished_first, Status.READY, what_it_saved, True),  # the winner's, same keys
        (newer_job_processing, Status.PROCESSING, what_it_saved, True),  # it may be writing them
    ],
    ids=["blocked", "failed", "newer job won", "duplicate won", "newer job running"],
)
async def test_a_job_that_loses_its_image_removes_what_the_winner_does_not_own(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    winner: Winner,
    status: Status,
    images_left: Callable[[str, list[str]], list[str]],
    original_left: bool,
) -> None:
    async def body(ctx: WorkerContext) -> None:
        _, job = await processing_upload(ctx)
        await ctx.storage.put(original_key(job.image_id), DATA)
        saved = decided_before_complete(ctx, winner, monkeypatch)
        await run_upload(ctx, job)
        assert len(saved) >= 3 and master_key(job.image_id, "jpeg") in saved  # master and sizes
        record = await ctx.store.load(job.image_id)
        assert record.status == status
        assert record.job_id != "job-1" or status != Status.PROCESSING
        stored = sorted(o.key for o in await ctx.storage.list(f"images/{job.image_id}/"))
        assert stored == images_left(job.image_id, saved)
        assert (await ctx.storage.head(original_key(job.image_id)) is not None) is original_left
        assert await ctx.storage.head(record_key(job.image_id)) is not None

    await with_ctx(settings, body)


async def test_a_job_that_fetched_its_original_removes_it_when_blocked_meanwhile(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL upload blocked before it fetched: the block found no original to remove, the job
    then staged one. Losing the guarded write, the job removes it with its outputs."""

    async def body(ctx: WorkerContext) -> None:
        _, owned = await processing_upload(ctx)
        job = UploadJob(
            image_id=owned.image_id, account="acme", job_id="job-1", source_url="http://src/x.jpg"
        )

        async def fetched(ctx_: WorkerContext, url: str) -> bytes:
            return DATA

        monkeypatch.setattr(upload, "fetch_source", fetched)
        decided_before_complete(ctx, blocked, monkeypatch)
        await run_upload(ctx, job)
        assert await ctx.storage.list(f"images/{job.image_id}/") == []
        assert await ctx.storage.head(original_key(job.image_id)) is None

    await with_ctx(settings, body)
