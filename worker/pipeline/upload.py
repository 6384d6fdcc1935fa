"""upload: staged bytes or a source URL → master + sizes + placeholder → ``ready``."""

from __future__ import annotations

import hashlib

import structlog

from jobs.contract.constants import BLOCKLIST_KEY, original_key, originals_index_key
from jobs.contract.errors import MediaBlocked, ObjectNotFound, TooLarge
from jobs.contract.payloads import UploadJob
from jobs.contract.sizes import human_size
from jobs.plumbing.store.errors import redis_errors
from worker.context import WorkerContext
from worker.fetch import fetch
from worker.imaging import process_upload
from worker.pipeline.outcome import claim
from worker.pipeline.rendition import complete, save_rendition

log = structlog.get_logger(__name__)


async def fetch_source(ctx: WorkerContext, url: str) -> bytes:
    return await fetch(
        ctx.http,
        url,
        max_bytes=ctx.settings.max_input_bytes,
        allow_private=ctx.settings.allow_private_sources,
    )


async def read_source(ctx: WorkerContext, job: UploadJob) -> tuple[bytes, tuple[str, ...]]:
    """The original bytes: staged by the API, or fetched once and staged for reruns; and the
    keys this staged (the job removes them again if it loses its image meanwhile)."""
    key = original_key(job.image_id)
    try:
        return await ctx.storage.get(key), ()
    except ObjectNotFound:
        if job.source_url is None:
            raise
    data = await fetch_source(ctx, job.source_url)
    await ctx.storage.put(key, data)
    return data, (key,)


async def check_not_blocked(ctx: WorkerContext, checksum: str, *, index_as: str | None = None) -> None:
    """MediaBlocked if ``checksum`` is blocked; ``index_as``: also file that image id under the
    checksum (``darkroom block`` finds images by their bytes), in the same round trip."""
    with redis_errors():
        async with ctx.redis.pipeline(transaction=False) as pipe:
            pipe.sismember(BLOCKLIST_KEY, checksum)
            if index_as is not None:
                pipe.sadd(originals_index_key(checksum), index_as)
            blocked = (await pipe.execute())[0]
    if blocked:
        raise MediaBlocked("These bytes are on the blocklist.")


async def run_upload(ctx: WorkerContext, job: UploadJob) -> None:
    record = await claim(ctx, job)
    if record is None:
        return
    data, staged = await read_source(ctx, job)
    if len(data) > ctx.limits.max_input_bytes:
        raise TooLarge(f"The input is larger than the {human_size(ctx.limits.max_input_bytes)} limit.")
    # staged by the API (or refresh): the record already knows the bytes' sha256
    checksum = record.extra.get("original_checksum") or hashlib.sha256(data).hexdigest()
    # indexed before the work: a block landing meanwhile finds this image too
    await check_not_blocked(ctx, checksum, index_as=job.image_id)
    rendition = await ctx.imaging(process_upload, data, ctx.limits, threads=ctx.settings.imaging_threads)
    await save_rendition(ctx, job.image_id, rendition, source=(original_key(job.image_id), data))
    await complete(
        ctx,
        job,
        rendition,
        claimed=record,
        publish=job.publish,
        extra={"original_checksum": checksum, "source_url": job.source_url},
        source=(data, checksum),
        written=staged,
    )
