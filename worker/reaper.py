"""The reaper: ``processing`` images whose job never finished get it re-sent, or fail.

A job can vanish without a trace — Redis lost it, its worker's ack was never delivered,
a message was dropped by hand. Every processing image carries a deadline (``STUCK_AFTER``
after its job was sent, indexed in ``darkroom:deadlines``). Past it, the reaper re-sends
the same job (same ``job_id``: if the original is merely slow, the rerun is a no-op) and
moves the deadline on; after ``MAX_RESENDS`` it fails the image with ``timeout``. No image
stays ``processing`` forever.
"""

from __future__ import annotations

import time

import structlog

from jobs.constants import DEADLINES_KEY
from jobs.errors import JobTimeout
from jobs.payloads import parse_payload
from jobs.states import Status
from jobs.store import Record
from worker.context import WorkerContext
from worker.pipeline.outcome import mark_failed

log = structlog.get_logger(__name__)
MAX_RESENDS = 3
BATCH = 200


async def reap(ctx: WorkerContext) -> dict[str, int]:
    records, vanished = await ctx.store.due(DEADLINES_KEY, time.time(), BATCH)
    counts = {"resent": 0, "failed": 0, "cleared": vanished}
    for record in records:
        image_id = record.id
        if record.status != Status.PROCESSING or record.job is None:
            await ctx.store.update(image_id, lambda r: r.with_job(r.job, None) if r.deadline else None)
            counts["cleared"] += 1
        elif int(record.extra.get("resends", 0)) >= MAX_RESENDS:
            message = f"The job never finished (re-sent {MAX_RESENDS} times)."
            await mark_failed(ctx, image_id, str(record.job_id), JobTimeout.code, message)
            counts["failed"] += 1
        elif await _resend(ctx, record):
            counts["resent"] += 1
    if any(counts.values()):
        log.info("reaper.ran", **counts)
    return counts


async def _resend(ctx: WorkerContext, record: Record) -> bool:
    job_id = record.job_id
    deadline = time.time() + ctx.settings.stuck_after

    def claim(r: Record) -> Record | None:
        if r.status != Status.PROCESSING or r.job_id != job_id or (r.deadline or 0) > time.time():
            return None  # finished, re-owned, or another reaper was first
        resends = int(r.extra.get("resends", 0)) + 1
        return r.with_job(r.job, deadline).with_extra(resends=resends)

    claimed = await ctx.store.update(record.id, claim)
    if claimed.deadline != deadline or claimed.job is None:
        return False
    await ctx.queue.asend(parse_payload(claimed.job))
    log.warning(
        "reaper.resent", image_id=record.id, job=claimed.job.get("kind"), resends=claimed.extra["resends"]
    )
    return True
