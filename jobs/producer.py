"""Enqueue work straight into Redis, without the HTTP hop.

For Python services next to Darkroom (same Redis, same storage): a Dramatiq producer of
your own, a batch importer, a Django/Celery app. It is exactly what the HTTP API runs
behind each endpoint (the API's ``ctx`` *is* a ``Producer``), so records, staging,
idempotency of jobs and validation behave the same::

    from jobs.producer import Producer
    from jobs.settings import load_settings

    async with Producer.connect(load_settings()) as dr:       # on your event loop
        image = await dr.upload("acme", Path("cat.jpg").read_bytes(), UploadOptions(name="cat"))
        image = await dr.wait("acme", image.id, timeout=30)

Inside a Dramatiq actor of your own (AsyncIO middleware), open one ``Producer`` at worker
start-up and reuse it; it owns a Redis pool, a storage client and a small event listener.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from jobs.backends import Backends, OnBackends
from jobs.changes import Changes, Outcome
from jobs.events import EventHub
from jobs.intake import Intake, UploadOptions
from jobs.models import Image
from jobs.rendering import Rendering
from jobs.rollback import Rollbacks
from jobs.settings import Settings
from jobs.store import ListQuery, Page, list_images


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
