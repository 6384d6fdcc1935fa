"""Store a rendition's objects and move the image to ``ready`` with what was stored.

If the image is (or is asked to be) published, its public copies are refreshed *before*
the transition, so ``ready`` and ``url`` appear together. If the record vanished while the
job ran (deleted), whatever the job wrote is removed again; if the job lost the guarded write
(blocked, failed or taken over meanwhile), so is what it wrote that the winner does not own.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

import structlog

from jobs.contract.constants import CONTENT_TYPES, FORMAT_EXTENSIONS, master_key, size_key
from jobs.contract.errors import NotFound
from jobs.contract.models import SizeVariant, utcnow
from jobs.contract.payloads import ImageJob
from jobs.contract.states import Status
from jobs.plumbing.storage import Copy, Put, Write
from jobs.plumbing.store import Record
from jobs.plumbing.store.claims import owned_by
from jobs.services.publication import copies, published
from worker.context import WorkerContext
from worker.imaging.types import Encoded, Rendition
from worker.pipeline.objects import remove_image_objects, remove_unowned, rendition_keys, sync_public
from worker.pipeline.outcome import notify

log = structlog.get_logger(__name__)


async def save_rendition(
    ctx: WorkerContext, image_id: str, rendition: Rendition, *, source: tuple[str, bytes] | None = None
) -> None:
    """Store the master and sizes. ``source`` (key, bytes): an object already stored; an output
    that is byte-for-byte those bytes (a JPEG passed through untouched) is a storage-side copy
    of it (a hard link on local disk, ``CopyObject`` on S3) instead of a second upload."""
    objects = [(master_key(image_id, rendition.master.format), rendition.master)]
    objects += [(size_key(image_id, name, v.format), v) for name, v in rendition.sizes.items()]
    writes: list[Write] = []
    for key, variant in objects:
        content_type = CONTENT_TYPES[variant.format]
        if source is not None and _same_bytes(variant.data, source[1]):
            writes.append(Copy(source[0], key, content_type))
        else:
            writes.append(Put(key, variant.data, content_type))
    await ctx.storage.write_many(writes)  # one batch: locally, one thread and one directory fsync


def _same_bytes(a: bytes, b: bytes) -> bool:
    return a is b or (len(a) == len(b) and a == b)


def ready_fields(
    record: Record, rendition: Rendition, filename: str | None, source: tuple[bytes, str] | None = None
) -> dict[str, Any]:
    """``source``: (the original's bytes, their hex SHA-256), reused if the master is those bytes."""
    master = rendition.master
    if source is not None and _same_bytes(master.data, source[0]):
        digest = source[1]
    else:
        digest = hashlib.sha256(master.data).hexdigest()
    name = filename or record.image.filename
    if PurePosixPath(name).stem == record.id:  # no original name: {id}.{format} (docs/design.md §2),
        name = f"{record.id}.{FORMAT_EXTENSIONS[master.format]}"  # the stored format's, whatever was guessed
    return {
        "status": Status.READY,
        "error": None,
        "format": master.format,
        "width": master.width,
        "height": master.height,
        "bytes": len(master.data),
        "checksum": "sha256:" + digest,
        "placeholder": rendition.placeholder,
        "transformable": rendition.transformable,
        "sizes": {
            n: SizeVariant(
                url=None, width=v.width, height=v.height, frames=v.frames, still_reason=_still(rendition, v)
            )
            for n, v in rendition.sizes.items()
        },
        "filename": name,
    }


def _still(rendition: Rendition, size: Encoded) -> str | None:
    """Why a size of an animated master has fewer frames (docs/design.md §2 ``sizes``)."""
    return rendition.still_reason if size.frames < rendition.master.frames else None


async def complete(
    ctx: WorkerContext,
    job: ImageJob,
    rendition: Rendition,
    *,
    claimed: Record | None = None,
    publish: bool = False,
    filename: str | None = None,
    extra: dict[str, Any] | None = None,
    source: tuple[bytes, str] | None = None,
    written: tuple[str, ...] = (),
) -> Record | None:
    """processing → ready (publishing first if asked or already public). None if the image is gone.

    ``written``: keys the job stored besides the rendition (e.g. the original it fetched).

    ``claimed``: the record as the job claimed it, so the common case costs one Redis
    round trip (the guarded write) instead of three. Should its publication state have
    changed since, the public copies are decided again from a fresh read.
    """
    try:
        current = claimed or await ctx.store.load(job.image_id)
    except NotFound:
        await _discard(ctx, job)
        return None
    public = publish or current.image.public
    fields = ready_fields(current, rendition, filename, source)
    written += tuple(rendition_keys(job.image_id, rendition))
    if public:
        candidate = current.image.evolve(**fields)
        await sync_public(ctx.storage, candidate)
        written += tuple(dst for _, dst in copies(candidate))
        fields |= published(ctx.settings, candidate, utcnow())

    owner: dict[str, Any] = {}
    stale: list[bool] = []

    def change(record: Record) -> Record | None:
        owner.clear()  # a retry after a lost race may find the image no longer this job's
        if not owned_by(record, job.job_id):
            return None
        if (publish or record.image.public) != public:
            stale.append(True)  # published or unpublished meanwhile: decide again
            return None
        owner.update(record.job or {})
        return record.evolve(**fields).with_job(None, None).with_extra(**(extra or {}))

    try:
        record = await ctx.store.update(job.image_id, change, known=claimed)
    except NotFound:
        await _discard(ctx, job)
        return None
    if stale:
        return await complete(
            ctx,
            job,
            rendition,
            publish=publish,
            filename=filename,
            extra=extra,
            source=source,
            written=written,
        )
    if owner:
        await notify(ctx, owner, record)
    # lost (blocked, failed or taken over meanwhile, whose cleanup may have run before these
    # writes): what this attempt wrote goes unless the winner owns it. Won: public copies of a
    # publication undone meanwhile go too.
    await remove_unowned(ctx.storage, record, written)
    return record


async def _discard(ctx: WorkerContext, job: ImageJob) -> None:
    log.info("image.gone_while_processing")
    await remove_image_objects(ctx.storage, job.image_id)
