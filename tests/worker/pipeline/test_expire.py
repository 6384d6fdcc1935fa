"""run_expire: due images are erased in batches; a full batch sends the next sweep at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from jobs.contract.errors import NotFound
from jobs.contract.models import utcnow
from jobs.contract.payloads import ExpireJob
from jobs.contract.settings import Settings
from tests.support.pipeline import processing_upload, sent_jobs, with_ctx
from worker.context import WorkerContext
from worker.pipeline import delete
from worker.pipeline.delete import run_expire


async def expiring(ctx: WorkerContext, count: int) -> list[str]:
    ids = []
    for n in range(count):
        record, _ = await processing_upload(ctx, f"job-{n}")
        soon = utcnow() + timedelta(milliseconds=50)
        await ctx.store.update(record.id, lambda r, at=soon: r.evolve(expires_at=at))
        ids.append(record.id)
    await asyncio.sleep(0.1)
    return ids


@pytest.mark.parametrize(("due", "continues"), [(3, True), (2, False)])
async def test_a_full_batch_sends_the_next_sweep(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, due: int, continues: bool
) -> None:
    monkeypatch.setattr(delete, "EXPIRE_BATCH", 3)

    async def body(ctx: WorkerContext) -> None:
        ids = await expiring(ctx, due)
        sent = sent_jobs(ctx, monkeypatch)
        await run_expire(ctx, ExpireJob(job_id="sweep-1"))
        for image_id in ids:
            with pytest.raises(NotFound):
                await ctx.store.load(image_id)
        expires = [job for job in sent if isinstance(job, ExpireJob)]
        assert len(expires) == (1 if continues else 0)
        assert all(job.job_id != "sweep-1" for job in expires)

    await with_ctx(settings, body)
