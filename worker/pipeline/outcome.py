"""Terminal transitions a job makes on its image, guarded by job ownership, and their webhooks.

A job may only complete or fail an image that is still ``processing`` *for that job*
(``record.job_id == job.job_id``); anything else is a late or duplicate delivery and
becomes a no-op, so a rerun can never move an image backwards. The transition that does
apply sends the caller's webhook (``callback_url`` of the owning job), once.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from jobs.contract.errors import DarkroomError, NotFound
from jobs.contract.models import ImageError
from jobs.contract.payloads import ImageJob, WebhookJob
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.plumbing.store.claims import owned_by
from worker.context import WorkerContext

log = structlog.get_logger(__name__)


async def claim(ctx: WorkerContext, job: ImageJob) -> Record | None:
    """The image this job owns, or None (deleted, finished, or owned by a newer job): nothing to do."""
    try:
        record = await ctx.store.load(job.image_id)
    except NotFound:
        log.info("job.image_gone")
        return None
    if not owned_by(record, job.job_id):
        log.info("job.not_owner", status=record.status.value)
        return None
    return record


async def notify(ctx: WorkerContext, owner: dict[str, Any], record: Record) -> None:
    """Enqueue the webhook of a terminal transition, if the owning job asked for one."""
    url = owner.get("callback_url")
    if not url:
        return
    event = "image.ready" if record.status == Status.READY else "image.failed"
    await ctx.queue.asend(
        WebhookJob(
            image_id=record.id,
            account=record.account,
            job_id=str(owner["job_id"]),  # the finished job's id: one delivery id per transition
            url=url,
            event=event,
            image=json.loads(record.image.to_json()),
        )
    )


async def mark_failed(
    ctx: WorkerContext, image_id: str, job_id: str, code: str, message: str
) -> Record | None:
    owner: dict[str, Any] = {}

    def change(record: Record) -> Record | None:
        owner.clear()  # a retry after a lost race may find the image no longer this job's
        if not owned_by(record, job_id):
            return None
        owner.update(record.job or {})
        failed = record.evolve(status=Status.FAILED, error=ImageError(code=code, message=message[:1000]))
        return failed.with_job(None, None)

    try:
        record = await ctx.store.update(image_id, change)
    except NotFound:
        return None  # deleted meanwhile: nothing to fail
    if owner:
        log.info("image.failed", error_code=code, error_message=message)
        await notify(ctx, owner, record)
    return record


async def fail_with(ctx: WorkerContext, image_id: str, job_id: str, error: DarkroomError) -> Record | None:
    return await mark_failed(ctx, image_id, job_id, error.code, error.message)
