"""transform: a ready parent's master + operations → a new image with the parent's name."""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath

import structlog

from jobs.contract.constants import FORMAT_EXTENSIONS, OutputFormat, master_key
from jobs.contract.errors import Conflict, MediaFailed, NotFound, UnsupportedMediaType
from jobs.contract.models import require_usable
from jobs.contract.operations import Operation, Watermark, validate_operations
from jobs.contract.payloads import TransformJob
from jobs.plumbing.store import Record
from worker.context import WorkerContext
from worker.imaging import process_transform
from worker.pipeline.outcome import claim
from worker.pipeline.rendition import complete, save_rendition

log = structlog.get_logger(__name__)


async def usable_source(
    ctx: WorkerContext, account: str, image_id: str, role: str | None = None
) -> tuple[Record, OutputFormat]:
    """An input image of a job (the parent, a watermark, the image rendered) and its master's
    format. A job cannot wait for its input: whatever makes it unusable fails the job."""
    try:
        record = await ctx.store.get(account, image_id)
        return record, require_usable(record.image, role)
    except NotFound as exc:
        what = f"The {role} image" if role else "The image"
        raise MediaFailed(f"{what} {image_id} no longer exists.") from exc
    except (Conflict, UnsupportedMediaType) as exc:
        raise MediaFailed(exc.message) from exc


async def load_master(ctx: WorkerContext, account: str, image_id: str, role: str) -> tuple[Record, bytes]:
    """A usable image of the same account and its master bytes (parent or watermark)."""
    record, fmt = await usable_source(ctx, account, image_id, role)
    return record, await ctx.storage.get(master_key(image_id, fmt))


async def load_assets(ctx: WorkerContext, account: str, operations: list[Operation]) -> dict[str, bytes]:
    ids = {op.image_id for op in operations if isinstance(op, Watermark) and op.image_id}
    loaded = await asyncio.gather(*(load_master(ctx, account, i, "watermark") for i in sorted(ids)))
    return {record.id: data for record, data in loaded}


async def run_transform(ctx: WorkerContext, job: TransformJob) -> None:
    claimed = await claim(ctx, job)
    if claimed is None:
        return
    operations = validate_operations(job.operations)
    parent, data = await load_master(ctx, job.account, job.parent_id, "parent")
    assets = await load_assets(ctx, job.account, operations)
    threads = ctx.settings.imaging_threads
    rendition = await ctx.imaging(
        process_transform, data, operations, ctx.limits, assets=assets, threads=threads
    )
    await save_rendition(ctx, job.image_id, rendition)
    stem = PurePosixPath(parent.image.filename).stem or parent.id
    filename = f"{stem}.{FORMAT_EXTENSIONS[rendition.master.format]}"
    await complete(ctx, job, rendition, claimed=claimed, publish=job.publish, filename=filename)
