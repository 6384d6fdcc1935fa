"""worker.pipeline.outcome: a job that loses the race for its image changes nothing and tells nobody."""

from __future__ import annotations

import pytest

from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from tests.support.pipeline import processing_upload, sent_jobs, with_ctx
from worker.context import WorkerContext
from worker.pipeline.outcome import mark_failed


@pytest.mark.parametrize("finished_meanwhile", [False, True])
async def test_mark_failed_after_a_lost_race_sends_no_webhook(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, finished_meanwhile: bool
) -> None:
    """The failing job reads its image while still its own; before its guarded write lands,
    another writer finishes the image. The retry finds it no longer the job's: no change,
    and no ``image.failed`` webhook carrying a record the job never wrote."""

    async def body(ctx: WorkerContext) -> None:
        stale, job = await processing_upload(ctx, "job-1", callback_url="https://hooks.example/darkroom")
        image_id = job.image_id
        if finished_meanwhile:
            await ctx.store.update(image_id, lambda r: r.evolve(status=Status.READY).with_job(None, None))
            load = ctx.store.load
            reads = iter([stale])

            async def first_read_stale(image_id: str) -> Record:
                return next(reads, None) or await load(image_id)

            monkeypatch.setattr(ctx.store, "load", first_read_stale)
        sent = sent_jobs(ctx, monkeypatch)
        record = await mark_failed(ctx, image_id, "job-1", "decode_failed", "truncated")
        assert record is not None
        if finished_meanwhile:
            assert record.status == Status.READY
            assert sent == []
        else:
            assert record.status == Status.FAILED
            assert [j.event for j in sent] == ["image.failed"]

    await with_ctx(settings, body)
