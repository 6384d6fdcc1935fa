"""render (and warmup): an on-demand derivative into the cache ``derived/{id}/{digest}.{ext}``.

Waiters (the API holding a render URL request) are woken through the events stream; a
permanent failure is left in a short-lived error key so they can answer at once.
"""

from __future__ import annotations

import json

import structlog

from jobs.contract.constants import (
    CONTENT_TYPES,
    derived_key,
    master_key,
    render_error_key,
    render_lock_key,
    rendered_paths_key,
)
from jobs.contract.errors import DarkroomError
from jobs.contract.operations import Convert, validate_operations
from jobs.contract.payloads import RenderJob
from jobs.plumbing.store.errors import redis_errors
from worker.context import WorkerContext
from worker.imaging import render
from worker.pipeline.transform import load_assets, usable_source

log = structlog.get_logger(__name__)
ERROR_TTL_S = 300


async def run_render(ctx: WorkerContext, job: RenderJob) -> None:
    try:
        await _render(ctx, job)
    except DarkroomError as exc:
        if not exc.transient:
            with redis_errors():
                await ctx.redis.set(
                    render_error_key(job.image_id, job.digest),
                    json.dumps({"error": exc.code, "message": exc.message}),
                    ex=ERROR_TTL_S,
                )
                await ctx.redis.delete(render_lock_key(job.image_id, job.digest))
            await ctx.store.announce(job.image_id, job.account, "render_failed")
        raise


async def _render(ctx: WorkerContext, job: RenderJob) -> None:
    record, fmt = await usable_source(ctx, job.account, job.image_id)
    operations = validate_operations(job.operations)
    key = derived_key(job.image_id, job.digest, job.format)
    if await ctx.storage.head(key) is None:
        data = await ctx.storage.get(master_key(record.id, fmt))
        assets = await load_assets(ctx, job.account, operations)
        if not any(isinstance(op, Convert) for op in operations):
            operations = [*operations, Convert(op="convert", format=job.format)]
        encoded = await ctx.imaging(render, data, operations, ctx.limits, assets=assets)
        await ctx.storage.put(key, encoded.data, content_type=CONTENT_TYPES[encoded.format])
    with redis_errors():
        await ctx.redis.hset(rendered_paths_key(job.image_id), job.digest, job.path)
        await ctx.redis.delete(
            render_lock_key(job.image_id, job.digest), render_error_key(job.image_id, job.digest)
        )
    await ctx.store.announce(job.image_id, job.account, "rendered")
