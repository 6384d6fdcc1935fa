"""API test helpers: the test keys, the jobs waiting on a queue, running a queued job in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import redis

from jobs.contract.constants import Queue
from jobs.contract.payloads import JobPayload, UploadJob, parse_payload
from jobs.contract.settings import Settings
from jobs.plumbing.storage import open_storage
from tests.support.worker_ctx import make_worker_ctx
from worker.context import WorkerContext
from worker.pipeline.upload import run_upload

K1 = {"x-api-key": "k1"}  # account acme


K2 = {"x-api-key": "k2"}  # account globex


def queued_jobs(settings: Settings, queue: Queue) -> list[JobPayload]:
    """The payloads of the messages waiting on ``queue`` (as a worker would parse them)."""
    client = redis.Redis.from_url(settings.redis_url)
    try:
        raw = client.hvals(f"darkroom:{queue.value}.msgs")
    finally:
        client.close()
    return [parse_payload(json.loads(message)["args"][0]) for message in raw]


def in_worker(settings: Settings, step: Callable[[WorkerContext], Awaitable[None]]) -> None:
    """Run ``step`` against the real ``WorkerContext`` (real Redis and storage), in-process."""

    async def go() -> None:
        ctx = await make_worker_ctx(settings, storage=await open_storage(settings))
        try:
            await step(ctx)
        finally:
            await ctx.close()

    asyncio.run(go())


def process_upload(settings: Settings, image_id: str) -> None:
    """Run the queued upload job of ``image_id`` through the real worker pipeline, in-process.

    The message stays on the queue (nothing here acks it); the image ends ``ready`` (or
    ``failed``) exactly as a worker would leave it.
    """
    jobs = [j for j in queued_jobs(settings, Queue.UPLOAD) if isinstance(j, UploadJob)]
    job = next(j for j in jobs if j.image_id == image_id)
    in_worker(settings, lambda ctx: run_upload(ctx, job))
