"""delete and expire: remove an image's record and every stored object, and tell the CDN.

``delete`` runs after the API has already removed the record (so the image is gone for
callers at once); it sweeps storage twice — now, and once more after the longest a job
could still be writing — so nothing an in-flight job writes survives.
"""

from __future__ import annotations

import structlog

from jobs.contract.constants import EXPIRIES_KEY, originals_index_key, rendered_paths_key
from jobs.contract.ids import new_token
from jobs.contract.models import utcnow
from jobs.contract.payloads import DeleteJob, ExpireJob
from jobs.plumbing.store import Record
from jobs.plumbing.store.errors import redis_errors
from jobs.services.publication import public_urls
from worker.context import WorkerContext
from worker.pipeline.objects import remove_image_objects
from worker.pipeline.purge import purge_derivatives

log = structlog.get_logger(__name__)
EXPIRE_BATCH = 500


async def erase_objects(ctx: WorkerContext, image_id: str, checksum: str | None, cdn_urls: list[str]) -> int:
    _, render_urls = await purge_derivatives(ctx, image_id)
    removed = await remove_image_objects(ctx.storage, image_id)
    with redis_errors():
        await ctx.redis.delete(rendered_paths_key(image_id))
        if checksum:
            await ctx.redis.srem(originals_index_key(checksum), image_id)
    if cdn_urls or render_urls:
        await ctx.purger.purge(cdn_urls + render_urls)
    return removed


async def erase(ctx: WorkerContext, record: Record) -> None:
    """Delete a record and everything stored for it (expiry, blocklist, sweeps)."""
    await ctx.store.delete(record.id)
    await erase_objects(ctx, record.id, record.extra.get("original_checksum"), public_urls(record.image))


async def run_delete(ctx: WorkerContext, job: DeleteJob) -> None:
    removed = await erase_objects(ctx, job.image_id, job.original_checksum, job.public_urls)
    log.info("delete.swept", objects=removed, final=not job.sweep_again)
    if job.sweep_again:
        again = job.model_copy(update={"job_id": new_token(), "sweep_again": False})
        delay_ms = int((ctx.settings.job_time_limit + 5) * 1000)
        await ctx.queue.asend(again, delay_ms=delay_ms)


async def run_expire(ctx: WorkerContext, job: ExpireJob) -> None:
    now = utcnow()
    records, vanished = await ctx.store.due(EXPIRIES_KEY, now.timestamp(), EXPIRE_BATCH)
    for record in records:
        if record.image.expires_at is None or record.image.expires_at > now:
            continue
        await erase(ctx, record)
        log.info("image.expired", image_id=record.id)
    if len(records) + vanished == EXPIRE_BATCH:  # a full batch: more may be due
        await ctx.queue.asend(ExpireJob(job_id=new_token()))
