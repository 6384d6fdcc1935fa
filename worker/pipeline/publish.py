"""publish / unpublish: public copies and URLs; the CDN is told on unpublish.

The API records the requesting job in ``extra["publication"]``; only that job may apply,
so when publish and unpublish race, the last request wins and a stale job is a no-op.
"""

from __future__ import annotations

import structlog

from jobs.contract.errors import NotFound
from jobs.contract.models import utcnow
from jobs.contract.payloads import ImageJob, PublishJob, UnpublishJob
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.publication import public_urls, published, unpublished
from worker.context import WorkerContext
from worker.pipeline.objects import remove_public, sync_public

log = structlog.get_logger(__name__)


def pending(record: Record, job: ImageJob) -> bool:
    return bool(record.extra.get("publication") == job.job_id)


async def _current(ctx: WorkerContext, job: ImageJob) -> Record | None:
    try:
        record = await ctx.store.get(job.account, job.image_id)
    except NotFound:
        return None
    return record if pending(record, job) else None


async def run_publish(ctx: WorkerContext, job: PublishJob) -> None:
    record = await _current(ctx, job)
    if record is None:
        log.info("publish.superseded")
        return
    if record.status != Status.READY:
        await ctx.store.update(
            job.image_id, lambda r: r.with_extra(publication=None) if pending(r, job) else None
        )
        log.info("publish.not_ready", status=record.status.value)
        return
    await sync_public(ctx.storage, record.image)
    now = utcnow()

    def change(r: Record) -> Record | None:
        if not pending(r, job) or r.status != Status.READY:
            return None
        return r.evolve(**published(ctx.settings, r.image, now)).with_extra(publication=None)

    await ctx.store.update(job.image_id, change)


async def run_unpublish(ctx: WorkerContext, job: UnpublishJob) -> None:
    record = await _current(ctx, job)
    if record is None:
        log.info("unpublish.superseded")
        return
    old_urls = public_urls(record.image)
    await remove_public(ctx.storage, job.image_id)

    def change(r: Record) -> Record | None:
        if not pending(r, job):
            return None
        return r.evolve(**unpublished(r.image)).with_extra(publication=None)

    await ctx.store.update(job.image_id, change)
    if old_urls:
        await ctx.purger.purge(old_urls)
