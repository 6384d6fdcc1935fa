"""refresh (imgix): re-fetch a URL-sourced image; reprocess only if its bytes changed.

Unchanged bytes → no-op. Changed → ``ready → processing`` owned by a new upload job that
runs right here, then ``ready`` again (re-published if it was public); cached derivatives
of the old bytes are purged.
"""

from __future__ import annotations

import hashlib
import time

import structlog

from jobs.contract.constants import original_key
from jobs.contract.errors import InvalidRequest, NotFound
from jobs.contract.ids import new_token
from jobs.contract.payloads import RefreshJob, UploadJob
from jobs.contract.states import Status
from jobs.plumbing.store.claims import claim_for_job
from worker.context import WorkerContext
from worker.pipeline.purge import purge_image
from worker.pipeline.upload import check_not_blocked, fetch_source, run_upload

log = structlog.get_logger(__name__)


async def run_refresh(ctx: WorkerContext, job: RefreshJob) -> None:
    try:
        record = await ctx.store.get(job.account, job.image_id)
    except NotFound:
        log.info("job.image_gone")
        return
    source_url = record.extra.get("source_url")
    if not source_url:
        raise InvalidRequest("Only images created from a URL can be refreshed.")
    if record.status == Status.PROCESSING:
        log.info("refresh.busy")
        return
    data = await fetch_source(ctx, source_url)
    checksum = hashlib.sha256(data).hexdigest()
    if checksum == record.extra.get("original_checksum") and record.status == Status.READY:
        log.info("refresh.unchanged")
        return
    await check_not_blocked(ctx, checksum)
    await ctx.storage.put(original_key(job.image_id), data)
    upload = UploadJob(
        image_id=job.image_id, account=job.account, job_id=new_token(), source_url=source_url, publish=False
    )

    claimed = await claim_for_job(
        ctx.store,
        job.image_id,
        upload.to_message_args(),
        time.time() + ctx.settings.stuck_after,
        when=lambda r: r.status != Status.PROCESSING,
        extra=lambda _: {"original_checksum": checksum},
    )
    if claimed is None:
        log.info("refresh.lost_race")
        return
    log.info("refresh.changed", checksum=checksum)
    _, stale = await purge_image(ctx, job.image_id)
    await run_upload(ctx, upload)
    if stale:  # after the new bytes are in place, so a CDN cannot re-cache the old ones
        await ctx.purger.purge(stale)
