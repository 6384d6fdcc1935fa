"""block: existing images whose original has a blocked SHA-256 become ``failed``/``media_blocked``.

They are unpublished (CDN told), their stored bytes and derivatives removed; the record
stays so callers see why. New uploads of those bytes are refused at the API (403) or fail
in the worker (URL sources).
"""

from __future__ import annotations

from typing import cast

import structlog

from jobs.contract.constants import originals_index_key
from jobs.contract.errors import MediaBlocked, NotFound
from jobs.contract.models import ImageError
from jobs.contract.payloads import BlockJob
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.plumbing.store.errors import redis_errors
from jobs.services.ownership import is_blocked
from jobs.services.publication import public_urls, unpublished
from worker.context import WorkerContext
from worker.pipeline.objects import remove_content
from worker.pipeline.purge import purge_derivatives

log = structlog.get_logger(__name__)


def blocked(record: Record) -> Record | None:
    if is_blocked(record):
        return None
    error = ImageError(code=MediaBlocked.code, message="This image's content is blocked.")
    return (
        record.evolve(**unpublished(record.image), status=Status.FAILED, error=error)
        .with_job(None, None)
        .with_extra(publication=None)
    )


async def run_block(ctx: WorkerContext, job: BlockJob) -> None:
    with redis_errors():
        members = cast(list[bytes], await ctx.redis.smembers(originals_index_key(job.checksum)))
    for image_id in sorted(m.decode() for m in members):
        try:
            record = await ctx.store.load(image_id)
        except NotFound:
            continue
        old_urls = public_urls(record.image)
        await ctx.store.update(image_id, blocked)
        await remove_content(ctx.storage, image_id)
        _, render_urls = await purge_derivatives(ctx, image_id)
        if old_urls or render_urls:
            await ctx.purger.purge(old_urls + render_urls)
        log.info("image.blocked", image_id=image_id)
