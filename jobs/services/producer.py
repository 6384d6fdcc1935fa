"""Enqueue work straight into Redis, without the HTTP hop.

For Python services next to Darkroom (same Redis, same storage): a Dramatiq producer of
your own, a batch importer, a Django/Celery app. It is exactly what the HTTP API runs
behind each endpoint (the API's ``ctx`` *is* a ``Producer``), so records, staging,
idempotency of jobs and validation behave the same::

    from jobs.services.producer import Producer
    from jobs.contract.settings import load_settings

    async with Producer.connect(load_settings()) as dr:       # on your event loop
        image = await dr.upload("acme", Path("cat.jpg").read_bytes(), UploadOptions(name="cat"))
        image = await dr.wait("acme", image.id, timeout=30)

Inside a Dramatiq actor of your own (AsyncIO middleware), open one ``Producer`` at worker
start-up and reuse it; it owns a Redis pool, a storage client and a small event listener.

The API's routes call nothing else: every Redis read or write behind an endpoint is a
method here (or a service it hands out), never a command in a route
(``tests/jobs/api/test_route_boundary.py`` scans them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from jobs.contract.constants import RECORDS_PREFIX
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends, OnBackends
from jobs.plumbing.events import EventHub
from jobs.plumbing.store import ListQuery, Page, Record, list_images
from jobs.plumbing.store import purge_status as purges
from jobs.plumbing.store import webhook_attempts as attempts
from jobs.plumbing.store.idempotency import IdempotencySlots
from jobs.services.admin.overview import Overview
from jobs.services.changes import Changes, Outcome
from jobs.services.downloads import Download, download, thumbnail
from jobs.services.intake import Intake, UploadOptions
from jobs.services.rendering import Rendering
from jobs.services.rollback import Rollbacks
from jobs.services.webhook_secrets import SecretState, load_state, rotate


@dataclass(slots=True)
class Producer(OnBackends):
    backends: Backends  # Redis, storage, store, queue: opened as the worker and the CLI open them
    hub: EventHub
    rollbacks: Rollbacks

    @classmethod
    async def open(cls, settings: Settings) -> Producer:
        backends = await Backends.open(settings)
        hub = EventHub(backends.redis)
        await hub.start()
        return cls(
            backends=backends, hub=hub, rollbacks=Rollbacks(backends.store, backends.storage, backends.queue)
        )

    @classmethod
    @asynccontextmanager
    async def connect(cls, settings: Settings) -> AsyncIterator[Producer]:
        producer = await cls.open(settings)
        try:
            yield producer
        finally:
            await producer.close()

    async def close(self) -> None:
        await self.rollbacks.close()
        await self.hub.stop()
        await self.backends.close()

    # --- the services behind every endpoint ------------------------------------------------------

    @property
    def intake(self) -> Intake:
        return Intake(self.settings, self.store, self.storage, self.queue, self.rollbacks)

    @property
    def changes(self) -> Changes:
        return Changes(self.store, self.queue, self.hub)

    @property
    def rendering(self) -> Rendering:
        return Rendering(self.settings, self.store, self.storage, self.queue, self.hub)

    @property
    def overview(self) -> Overview:
        """The operator's reads: dashboard and ``/metrics``."""
        return Overview(self.settings, self.redis, self.storage, self.queue)

    @property
    def idempotency(self) -> IdempotencySlots:
        return IdempotencySlots(self.redis)

    # --- reads and small writes behind the API's endpoints ---------------------------------------
    # The routes call these rather than Redis: what an endpoint reads is decided here, once.

    async def ping(self) -> None:
        """Redis answers (readiness); its own exception otherwise, named in ``/health``."""
        await self.redis.ping()

    async def probe_storage(self) -> None:
        """Storage answers (readiness): a HEAD of a key that need not exist."""
        await self.storage.head(f"{RECORDS_PREFIX}.health")

    async def record(self, account: str, image_id: str) -> Record:
        """``account``'s image record; NotFound for another account's."""
        return await self.store.get(account, image_id)

    async def wait_record(self, account: str, image_id: str, timeout: float) -> Record:
        """The record once it leaves ``processing``, or as it is after ``timeout`` seconds."""
        return await self.hub.wait_settled(self.store, account, image_id, timeout)

    async def download(self, account: str, image_id: str, size: str | None = None) -> Download:
        return await download(self.store, self.storage, account, image_id, size)

    async def thumbnail(self, image_id: str, account: str | None) -> Download:
        """The dashboard's thumbnail of an image ``account`` may see (None: an operator)."""
        return await thumbnail(self.store, self.storage, image_id, account)

    async def purge_status(self, account: str, purge_id: str) -> dict[str, Any]:
        """What ``account``'s purge did; NotFound for another account's or an expired one."""
        return await purges.read_status(self.redis, account, purge_id)

    async def webhook_attempts(self, account: str, image_id: str) -> list[attempts.Attempt]:
        """The webhook delivery attempts of ``account``'s image, newest first."""
        await self.store.get(account, image_id)  # another account's image → NotFound
        return await attempts.read_attempts(self.redis, image_id)

    async def webhook_secret_state(self, account: str) -> SecretState:
        return await load_state(self.redis, account)

    async def rotate_webhook_secret(self, account: str, now: float) -> tuple[str, SecretState]:
        """A new signing secret for ``account`` and its state."""
        return await rotate(self.redis, self.settings, account, now)

    # --- conveniences for direct producers -------------------------------------------------------

    async def upload(self, account: str, data: bytes, options: UploadOptions | None = None) -> Image:
        return await self.intake.upload_bytes(account, data, options or UploadOptions())

    async def upload_url(self, account: str, url: str, options: UploadOptions | None = None) -> Image:
        return await self.intake.upload_url(account, url, options or UploadOptions())

    async def transform(
        self,
        account: str,
        image_id: str,
        operations: list[dict[str, Any]],
        options: UploadOptions | None = None,
    ) -> Image:
        return await self.intake.transform(account, image_id, operations, options or UploadOptions())

    async def get(self, account: str, image_id: str) -> Image:
        return (await self.store.get(account, image_id)).image

    async def wait(self, account: str, image_id: str, timeout: float = 60.0) -> Image:
        return (await self.hub.wait_settled(self.store, account, image_id, timeout)).image

    async def list(self, account: str, query: ListQuery | None = None) -> Page:
        return await list_images(self.store, account, query or ListQuery())

    async def publish(self, account: str, image_id: str, wait_s: float = 10.0) -> Outcome:
        return await self.changes.publish(account, image_id, wait_s)

    async def unpublish(self, account: str, image_id: str, wait_s: float = 10.0) -> Outcome:
        return await self.changes.unpublish(account, image_id, wait_s)

    async def delete(self, account: str, image_id: str) -> Image:
        return await self.changes.delete(account, image_id)
