"""Accepting work: create the ``processing`` record, stage bytes, enqueue the job.

Used by the HTTP API and by producers that talk to Redis directly. The order
(stage → record → enqueue) means a crash in between leaves at worst a ``processing``
record whose job the reaper re-sends; never a job without a record, never lost bytes.

So once the record is in Redis the request is *accepted*, whatever fails next (its sidecar
write, the enqueue): the record carries its job and reaper deadline, and the job will run.
Answering 503 then would be a lie that invites a retry, and a second image.

A request answered with an error leaves nothing behind: its staged original is deleted, and
a record Redis may have written before dying is undone once it is back (:mod:`jobs.services.rollback`);
what a crash of this process leaves, ``darkroom fsck`` finds (:mod:`jobs.services.admin.fsck`).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

from jobs.contract.constants import BLOCKLIST_KEY, FORMAT_EXTENSIONS, original_key
from jobs.contract.errors import (
    InvalidRequest,
    MediaBlocked,
    NotFound,
    SourceUnreachable,
    TooLarge,
    Unavailable,
)
from jobs.contract.ids import new_image_id, new_token
from jobs.contract.models import MAX_NAME_CHARS, Image, check_metadata, require_usable, utcnow
from jobs.contract.operations import Watermark, canonical_json, validate_operations
from jobs.contract.payloads import JobPayload, TransformJob, UploadJob
from jobs.contract.settings import Settings
from jobs.contract.sizes import human_size
from jobs.contract.upload_options import UploadOptions as UploadOptions  # callers of the intake build them
from jobs.contract.web_formats import web_format
from jobs.plumbing.netguard import precheck
from jobs.plumbing.queue import JobSender
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore, Record
from jobs.plumbing.store.errors import redis_errors
from jobs.services.rollback import Rollbacks

log = structlog.get_logger(__name__)


def clean_filename(raw: str | None) -> str | None:
    if not raw:
        return None
    base = PurePosixPath(raw.replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:MAX_NAME_CHARS] or None


def filename_from_url(url: str) -> str | None:
    return clean_filename(unquote(urlsplit(url).path))


def check_http_url(url: str, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or len(url) > 4096:
        raise InvalidRequest(f"{field} must be an http(s) URL.", field=field)


def check_options(options: UploadOptions) -> None:
    """What the options' types cannot say (their lengths are the model's)."""
    if options.callback_url is not None:
        check_http_url(options.callback_url, "callback_url")
    try:
        check_metadata(options.metadata)
    except ValueError as exc:
        raise InvalidRequest(f"metadata: {exc}", field="metadata") from exc
    if options.expires_at is not None:
        if options.expires_at.tzinfo is None:
            raise InvalidRequest("expires_at needs a timezone (e.g. Z).", field="expires_at")
        if options.expires_at <= utcnow():
            raise InvalidRequest("expires_at must be in the future.", field="expires_at")


class Intake:
    def __init__(
        self, settings: Settings, store: ImageStore, storage: Storage, queue: JobSender, rollbacks: Rollbacks
    ) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.queue = queue
        self.rollbacks = rollbacks

    def deadline(self) -> float:
        """When the reaper may consider the job lost (``STUCK_AFTER`` from now)."""
        return time.time() + self.settings.stuck_after

    async def check_outbound(self, url: str, field: str) -> None:
        """A URL a worker will call: http(s), and not certainly pointing inside (SSRF)."""
        check_http_url(url, field)
        try:
            await precheck(url, allow_private=self.settings.allow_private_sources)
        except SourceUnreachable as exc:
            raise InvalidRequest(f"{field}: {exc.message}", field=field) from exc

    async def check_options(self, options: UploadOptions) -> None:
        check_options(options)
        if options.callback_url is not None:
            await self.check_outbound(options.callback_url, "callback_url")

    async def upload_bytes(
        self, account: str, data: bytes, options: UploadOptions, *, checksum: str | None = None
    ) -> Image:
        """``checksum``: the hex SHA-256 of ``data`` when the caller already has it."""
        if not data:
            raise InvalidRequest("The file is empty.", field="file")
        if len(data) > self.settings.max_input_bytes:
            # its size rounds to the limit's more often than not ("20.0 MiB"): the limit says it
            raise TooLarge(f"The file is larger than the {human_size(self.settings.max_input_bytes)} limit.")
        await self.check_options(options)
        checksum = checksum or hashlib.sha256(data).hexdigest()
        with redis_errors():
            blocked = await self.store.redis.sismember(BLOCKLIST_KEY, checksum)
        if blocked:
            raise MediaBlocked("These bytes are on the blocklist.")
        image_id = new_image_id()
        staged = original_key(image_id)
        await self.storage.put(staged, data)
        if options.filename is None and (fmt := web_format(data)) is not None:
            # no name of its own: {id}.{ext} from the first answer on, not only once ready
            options = options.model_copy(update={"filename": f"{image_id}.{FORMAT_EXTENSIONS[fmt]}"})
        return await self._submit(
            account, image_id, options, source_url=None, checksum=checksum, staged=staged
        )

    async def upload_url(self, account: str, url: str, options: UploadOptions) -> Image:
        await self.check_outbound(url, "url")
        await self.check_options(options)
        if options.filename is None:
            options = options.model_copy(update={"filename": filename_from_url(url)})
        return await self._submit(account, new_image_id(), options, source_url=url)

    async def transform(self, account: str, parent_id: str, raw_ops: Any, options: UploadOptions) -> Image:
        """Validate everything a transform needs before anything is enqueued."""
        operations = validate_operations(raw_ops)
        if not operations:
            raise InvalidRequest("operations must not be empty.", field="operations")
        await self.check_options(options)
        parent = await self.store.get(account, parent_id)
        require_usable(parent.image, "parent")
        for index, op in enumerate(operations):
            if isinstance(op, Watermark) and op.image_id:
                field_name = f"operations[{index}].image_id"
                try:
                    require_usable((await self.store.get(account, op.image_id)).image, "watermark")
                except NotFound as exc:
                    raise InvalidRequest(f"{field_name}: no such image.", field=field_name) from exc
        canonical = json.loads(canonical_json(operations))
        image_id = new_image_id()
        job = TransformJob(
            image_id=image_id,
            account=account,
            job_id=new_token(),
            parent_id=parent.id,
            operations=canonical,
            publish=options.publish,
            callback_url=options.callback_url,
        )
        image = Image(
            id=image_id,
            name=options.name or parent.image.name,
            filename=parent.image.filename,
            parent_id=parent.id,
            operations=canonical,
            metadata=options.metadata,
            caption=options.caption,
            expires_at=options.expires_at,
        )
        return await self._create(account, image, job)

    async def _submit(
        self,
        account: str,
        image_id: str,
        options: UploadOptions,
        source_url: str | None,
        checksum: str | None = None,
        staged: str | None = None,
    ) -> Image:
        filename = clean_filename(options.filename) or image_id
        job = UploadJob(
            image_id=image_id,
            account=account,
            job_id=new_token(),
            source_url=source_url,
            publish=options.publish,
            callback_url=options.callback_url,
        )
        image = Image(
            id=image_id,
            name=options.name or PurePosixPath(filename).stem or image_id,
            filename=filename,
            metadata=options.metadata,
            caption=options.caption,
            expires_at=options.expires_at,
        )
        # the original's sha256 travels with the record: the worker need not hash the bytes again
        extra = {"source_url": source_url, "original_checksum": checksum}
        return await self._create(account, image, job, {k: v for k, v in extra.items() if v}, staged)

    async def _create(
        self,
        account: str,
        image: Image,
        job: JobPayload,
        extra: dict[str, Any] | None = None,
        staged: str | None = None,
    ) -> Image:
        """``staged``: the original stored for this image, nobody's unless the record is created."""
        job_args, deadline = job.to_message_args(), self.deadline()
        record = Record(image=image, account=account, job=job_args, deadline=deadline, extra=extra or {})
        try:
            stored = await self.store.create(record)
        except Exception as exc:
            stored = await self._created_anyway(record, exc, staged)  # e.g. only the sidecar write failed
        try:
            await self.queue.asend(job)
        except Unavailable as exc:
            log.warning("intake.enqueue_deferred_to_reaper", image_id=image.id, error=exc.message)
        return stored.image

    async def _created_anyway(self, record: Record, error: Exception, staged: str | None) -> Record:
        """The record, if it made it into Redis despite ``error``; else ``error``, and the refused
        upload leaves nothing behind: its staged original is deleted now if Redis says there is
        no record, or by a rollback once Redis answers again if it cannot say."""
        try:
            current: Record | None = await self.store.load(record.id)
        except NotFound:
            current = None
        except Unavailable:
            self.rollbacks.start(record, staged)
            raise error from None
        if current is None:
            await self.rollbacks.discard(staged)
        if current is None or current.job_id != record.job_id:
            raise error
        log.warning("intake.sidecar_deferred", image_id=record.id)
        return current
