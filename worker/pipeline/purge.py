"""purge: drop cached derivatives (one image, listed render URLs, or a whole account) and tell the CDN."""

from __future__ import annotations

import contextlib
from typing import cast

import structlog

from jobs.contract.constants import (
    account_images_key,
    derived_key,
    derived_prefix,
    rendered_paths_key,
)
from jobs.contract.errors import NotFound
from jobs.contract.payloads import PurgeJob
from jobs.plumbing.store.errors import redis_errors
from jobs.plumbing.store.purge_status import write_done
from jobs.services.publication import public_urls
from jobs.services.render_urls import cache_digest, decode_options, parse
from worker.context import WorkerContext

log = structlog.get_logger(__name__)


def render_url(ctx: WorkerContext, path: str) -> str:
    return f"{ctx.settings.client_base_url}{path}"


async def purge_derivatives(ctx: WorkerContext, image_id: str) -> tuple[int, list[str]]:
    """Drop every cached derivative of one image; returns (objects removed, their render URLs)."""
    removed = await ctx.storage.delete_prefix(derived_prefix(image_id))
    with redis_errors():
        paths = cast(dict[bytes, bytes], await ctx.redis.hgetall(rendered_paths_key(image_id)))
        await ctx.redis.delete(rendered_paths_key(image_id))
    return removed, [render_url(ctx, p.decode()) for p in paths.values()]


async def purge_image(ctx: WorkerContext, image_id: str) -> tuple[int, list[str]]:
    """Every derivative of one image; returns (objects removed, URLs to purge at the CDN).

    The CDN is told the image's render URLs *and* its public URLs: a CDN in front of
    ``PUBLIC_BASE_URL`` caches those copies too, and a purge means "serve nothing stale".
    """
    removed, urls = await purge_derivatives(ctx, image_id)
    with contextlib.suppress(NotFound):
        urls += public_urls((await ctx.store.load(image_id)).image)
    return removed, urls


async def purge_urls(ctx: WorkerContext, account: str, urls: list[str]) -> tuple[int, list[str]]:
    removed, purged = 0, []
    for url in urls:
        ref = parse(url)
        try:
            await ctx.store.get(account, ref.image_id)
        except NotFound:
            continue  # not this account's (checked at the API too): never touch it
        digest = cache_digest(decode_options(ref.options), ref.format)
        key = derived_key(ref.image_id, digest, ref.format)
        if await ctx.storage.head(key) is not None:
            await ctx.storage.delete(key)
            removed += 1
        with redis_errors():
            await ctx.redis.hdel(rendered_paths_key(ref.image_id), digest)
        purged.append(render_url(ctx, ref.path))
    return removed, purged


async def run_purge(ctx: WorkerContext, job: PurgeJob) -> None:
    if job.scope == "image" and job.image_id is not None:
        removed, urls = await purge_image(ctx, job.image_id)
    elif job.scope == "urls":
        removed, urls = await purge_urls(ctx, job.account, job.urls)
    else:
        removed, urls = 0, []
        with redis_errors():
            members = cast(list[bytes], await ctx.redis.zrange(account_images_key(job.account), 0, -1))
        ids = [m.decode() for m in members]
        for image_id in ids:
            n, image_urls = await purge_image(ctx, image_id)
            removed, urls = removed + n, urls + image_urls
    if urls:
        await ctx.purger.purge(urls)
    await write_done(ctx.redis, job.job_id, job.account, job.scope, objects=removed, urls=len(urls))
    log.info("purge.done", objects=removed, urls=len(urls))
