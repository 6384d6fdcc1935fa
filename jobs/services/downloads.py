"""``GET /v1/images/{id}/download``: which stored bytes an image serves, and when it cannot."""

from __future__ import annotations

from dataclasses import dataclass

from jobs.contract.constants import SIZES, OutputFormat, master_key, size_key
from jobs.contract.errors import Conflict, MediaFailed, NotFound
from jobs.contract.states import Status
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore


@dataclass(frozen=True, slots=True)
class Download:
    data: bytes
    format: OutputFormat
    etag: str | None  # the original's checksum, for the master only (a size has none)


async def download(
    store: ImageStore, storage: Storage, account: str, image_id: str, size: str | None = None
) -> Download:
    """The master (``size`` None) or one responsive size of ``account``'s image.

    Conflict while processing, MediaFailed once failed, NotFound for a size it does not have.
    """
    image = (await store.get(account, image_id)).image
    if image.status == Status.PROCESSING:
        raise Conflict("The image is still processing.")
    if image.status == Status.FAILED or image.format is None:
        raise MediaFailed(image.error.message if image.error else None)
    if size is not None and size not in image.sizes:
        raise NotFound(f"The image has no {size!r} size.", field="size")
    key = size_key(image.id, size, image.format) if size in SIZES else master_key(image.id, image.format)
    data = await storage.get(key)
    etag = image.checksum.removeprefix("sha256:") if size is None and image.checksum else None
    return Download(data, image.format, etag)


async def thumbnail(store: ImageStore, storage: Storage, image_id: str, account: str | None) -> Download:
    """The ``small`` size (else the master) of a ready image; ``account`` None sees everyone's.

    NotFound for another account's image and for one that is not ready.
    """
    record = await store.load(image_id)
    if account is not None and record.account != account:
        raise NotFound("No such thumbnail.")
    image = record.image
    if record.status != Status.READY or image.format is None:
        raise NotFound("The image has no thumbnail yet.")
    if "small" in image.sizes:
        key = size_key(image.id, "small", image.format)
    else:
        key = master_key(image.id, image.format)
    return Download(await storage.get(key), image.format, None)
