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

from jobs.contract.constants import DEADLINES_KEY
from jobs.contract.errors import JobTimeout
from jobs.contract.payloads import parse_payload
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.plumbing.store.claims import claim_for_job, owned_by
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
    job = record.job
    if job is None:  # reap() clears such a record instead
        return False
    claimed = await claim_for_job(
        ctx.store,
        record.id,
        job,  # the same job again, with a new deadline
        time.time() + ctx.settings.stuck_after,
        # finished, re-owned, or another reaper was first: nothing to send
        when=lambda r: owned_by(r, record.job_id) and (r.deadline or 0) <= time.time(),
        extra=lambda r: {"resends": int(r.extra.get("resends", 0)) + 1},
    )
    if claimed is None:
        return False
    await ctx.queue.asend(parse_payload(job))
    log.warning("reaper.resent", image_id=record.id, job=job.get("kind"), resends=claimed.extra["resends"])
    return True
