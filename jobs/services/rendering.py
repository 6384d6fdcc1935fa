"""The producer side of on-demand derivatives: signed URLs, serving, warmup and purge requests.

A render URL's first request enqueues one ``render`` job (a Redis lock dedupes a burst of
identical requests) and waits for it through the events stream; later requests are served
straight from ``derived/{id}/{digest}.{ext}`` without a job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jobs.contract.constants import derived_key, render_error_key, render_lock_key
from jobs.contract.errors import (
    ERRORS_BY_CODE,
    DarkroomError,
    Forbidden,
    InvalidRequest,
    MediaFailed,
    NotFound,
    Unavailable,
)
from jobs.contract.ids import new_token
from jobs.contract.models import require_usable
from jobs.contract.operations import Operation, canonical_json, validate_operations
from jobs.contract.payloads import PurgeJob, RenderJob
from jobs.contract.settings import Settings
from jobs.plumbing.events import EventHub
from jobs.plumbing.queue import JobQueue
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore, Record
from jobs.plumbing.store.errors import redis_errors
from jobs.plumbing.store.purge_status import write_queued
from jobs.services.render_urls import (
    RenderRef,
    build_path,
    cache_digest,
    decode_options,
    parse,
    verify,
    verify_signature,
)

LOCK_TTL_S = 120
MAX_WARMUP_URLS = 100


@dataclass(frozen=True, slots=True)
class Rendered:
    data: bytes
    format: str
    digest: str
    from_cache: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A verified render request: whose image, which pipeline, where it is cached."""

    ref: RenderRef
    record: Record
    operations: list[Operation]
    digest: str

    @property
    def key(self) -> str:
        return derived_key(self.ref.image_id, self.digest, self.ref.format)


class Rendering:
    def __init__(
        self, settings: Settings, store: ImageStore, storage: Storage, queue: JobQueue, hub: EventHub
    ) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.queue = queue
        self.hub = hub

    @property
    def signing_key(self) -> str:
        return self.settings.signing_key.get_secret_value()

    def sign_url(self, record: Record, raw_operations: Any, fmt: str) -> str:
        path = build_path(
            self.signing_key, record.account, record.id, validate_operations(raw_operations), fmt
        )
        return f"{self.settings.client_base_url}{path}"

    async def verified_record(self, ref: RenderRef) -> Record:
        """The record of a render URL whose signature holds, checked before the record is read:
        a bad signature answers 403 whether or not the id exists, so the answer never tells."""
        if not ref.legacy:
            verify_signature(self.signing_key, ref)
        try:
            record = await self.store.load(ref.image_id)
        except NotFound:
            if ref.legacy:  # untagged: without its record there is no key to check it with
                raise Forbidden("Invalid render URL signature.") from None
            raise
        verify(self.signing_key, record.account, ref)  # the tag is the record's account's
        return record

    async def resolve(self, ref: RenderRef, account: str | None = None) -> Target:
        """Signature, ownership (when an account asks) and readiness of a render request."""
        record = await self.verified_record(ref)
        if account is not None and record.account != account:
            raise NotFound(f"No image {ref.image_id!r}.")
        require_usable(record.image)
        operations = decode_options(ref.options)
        return Target(ref, record, operations, cache_digest(operations, ref.format))

    async def cached(self, target: Target) -> bytes | None:
        if await self.storage.head(target.key) is None:
            return None
        try:
            return await self.storage.get(target.key)
        except NotFound:
            return None  # purged between head and get

    async def enqueue(self, target: Target) -> bool:
        """One render job per (image, pipeline) at a time; False if one is already running."""
        with redis_errors():
            won = await self.store.redis.set(
                render_lock_key(target.ref.image_id, target.digest), "1", nx=True, ex=LOCK_TTL_S
            )
            if won:
                await self.store.redis.delete(render_error_key(target.ref.image_id, target.digest))
        if not won:
            return False
        job = RenderJob(
            image_id=target.ref.image_id,
            account=target.record.account,
            job_id=new_token(),
            operations=json.loads(canonical_json(target.operations)),
            format=target.ref.format,
            digest=target.digest,
            path=target.ref.path,
        )
        await self.queue.asend(job)
        return True

    async def _failure(self, target: Target) -> DarkroomError | None:
        with redis_errors():
            raw = await self.store.redis.get(render_error_key(target.ref.image_id, target.digest))
        if raw is None:
            return None
        body = json.loads(raw)
        return ERRORS_BY_CODE.get(body.get("error"), MediaFailed)(body.get("message"))

    async def serve(self, path: str) -> Rendered:
        target = await self.resolve(parse(path))
        data = await self.cached(target)
        if data is not None:
            return Rendered(data, target.ref.format, target.digest, from_cache=True)
        await self.enqueue(target)

        async def outcome() -> bytes | DarkroomError | None:
            return await self.cached(target) or await self._failure(target)

        result: bytes | DarkroomError | None = await self.hub.wait_until(
            target.ref.image_id, outcome, self.settings.render_wait
        )
        if isinstance(result, DarkroomError):
            raise result
        if result is None:
            raise Unavailable("The derivative is still rendering; retry shortly.")
        return Rendered(result, target.ref.format, target.digest, from_cache=False)

    async def warmup(self, account: str, urls: list[str]) -> dict[str, int]:
        if not 1 <= len(urls) <= MAX_WARMUP_URLS:
            raise InvalidRequest(f"urls must hold 1..{MAX_WARMUP_URLS} render URLs.", field="urls")
        targets = [await self._own(account, url, index) for index, url in enumerate(urls)]
        counts = {"queued": 0, "cached": 0, "in_progress": 0}
        for target in targets:
            if await self.storage.head(target.key) is not None:
                counts["cached"] += 1
            elif await self.enqueue(target):
                counts["queued"] += 1
            else:
                counts["in_progress"] += 1
        return counts

    async def _own(self, account: str, url: str, index: int) -> Target:
        try:
            return await self.resolve(parse(url), account=account)
        except DarkroomError as exc:
            field = f"urls[{index}]"
            raise type(exc)(f"{field}: {exc.message}", field=field) from exc

    async def purge(self, account: str, scope: str, image_id: str | None, urls: list[str]) -> str:
        if image_id is not None and scope != "image":
            raise InvalidRequest("image_id only goes with scope=image.", field="image_id")
        if urls and scope != "urls":
            raise InvalidRequest("urls only go with scope=urls.", field="urls")
        if scope == "image":
            if image_id is None:
                raise InvalidRequest("scope=image needs image_id.", field="image_id")
            await self.store.get(account, image_id)
        elif scope == "urls":
            if not urls:
                raise InvalidRequest("scope=urls needs urls.", field="urls")
            for index, url in enumerate(urls):
                record = await self.verified_record(parse(url))
                if record.account != account:
                    raise NotFound(f"urls[{index}]: no such image.", field=f"urls[{index}]")
        job = PurgeJob(account=account, job_id=new_token(), scope=scope, image_id=image_id, urls=urls)
        # before the job: a fast worker's "done" must not be overwritten
        await write_queued(self.store.redis, job.job_id, account, scope)
        await self.queue.asend(job)
        return job.job_id
