"""Storage chores shared by jobs: public copies, removing everything of an image, and removing
what a job wrote once its record is decided."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog

from jobs.contract.constants import (
    image_prefixes,
    images_prefix,
    master_key,
    original_key,
    public_prefix,
    record_key,
    size_key,
)
from jobs.contract.models import Image
from jobs.plumbing.storage import Copy, Storage
from jobs.plumbing.store import Record
from jobs.services.ownership import owns
from jobs.services.publication import copies
from worker.imaging.types import Rendition

log = structlog.get_logger(__name__)


async def sync_public(storage: Storage, image: Image) -> None:
    """Make ``public/{id}/`` hold exactly the image's current master and sizes.

    New copies land first, stale ones (e.g. another format after a refresh) go after, so a
    published URL never 404s in between.
    """
    pairs = copies(image)
    await storage.write_many([Copy(src, dst) for src, dst in pairs])
    wanted = {dst for _, dst in pairs}
    stale = [o.key for o in await storage.list(public_prefix(image.id)) if o.key not in wanted]
    await asyncio.gather(*(storage.delete(key) for key in stale))


async def remove_public(storage: Storage, image_id: str) -> int:
    return await storage.delete_prefix(public_prefix(image_id))


async def remove_content(storage: Storage, image_id: str) -> None:
    """The bytes of a blocked image: public copies, master and sizes, original (record and
    sidecar stay, so callers see why)."""
    await remove_public(storage, image_id)
    await storage.delete_prefix(images_prefix(image_id))
    await storage.delete(original_key(image_id))


async def remove_image_objects(storage: Storage, image_id: str) -> int:
    """Every object of an image: original, master, sizes, derivatives, public copies, sidecar."""
    removed = await asyncio.gather(*(storage.delete_prefix(p) for p in image_prefixes(image_id)))
    for key in (original_key(image_id), record_key(image_id)):
        if await storage.head(key) is not None:
            await storage.delete(key)
            removed.append(1)
    return sum(removed)


def rendition_keys(image_id: str, rendition: Rendition) -> list[str]:
    """The keys ``save_rendition`` writes for ``rendition``: master and sizes."""
    keys = [master_key(image_id, rendition.master.format)]
    return keys + [size_key(image_id, name, v.format) for name, v in rendition.sizes.items()]


async def remove_unowned(storage: Storage, record: Record, written: Iterable[str]) -> list[str]:
    """After a job's final compare-and-set: remove what it wrote that ``record`` — the record as
    stored, whoever won — does not own.

    Only this attempt's own keys are candidates, never a prefix: a winner that wrote the same
    keys (a redelivered duplicate of the job, the same outputs) owns them and keeps them, and
    a newer job still processing the image owns everything it may be writing.
    """
    doomed = sorted({key for key in written if not owns(record, key)})
    await asyncio.gather(*(storage.delete(key) for key in doomed))
    if doomed:
        log.info("job.outputs_removed", status=record.status.value, objects=len(doomed))
    return doomed
