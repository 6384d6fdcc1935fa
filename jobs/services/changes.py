"""Requests that change existing images: publish, unpublish, delete, refresh.

Like :mod:`jobs.services.intake`, used by the HTTP API and by producers that talk to Redis directly.
Publish/unpublish record the requesting job in the image (``extra["publication"]``) before
enqueueing, so the last request wins whatever order the workers run them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.contract.errors import Conflict, InvalidRequest, MediaFailed
from jobs.contract.ids import new_token
from jobs.contract.models import Image
from jobs.contract.payloads import DeleteJob, ImageJob, PublishJob, RefreshJob, UnpublishJob
from jobs.contract.states import Status
from jobs.plumbing.events import EventHub
from jobs.plumbing.queue import JobQueue
from jobs.plumbing.store import ImageStore, Record
from jobs.services.publication import public_urls


@dataclass(frozen=True, slots=True)
class Outcome:
    image: Image
    done: bool  # False: accepted, still running (answer 202)


class Changes:
    def __init__(self, store: ImageStore, queue: JobQueue, hub: EventHub) -> None:
        self.store = store
        self.queue = queue
        self.hub = hub

    async def publish(self, account: str, image_id: str, wait_s: float) -> Outcome:
        record = await self.store.get(account, image_id)
        if record.status == Status.PROCESSING:
            if record.job and record.job.get("publish"):
                return Outcome(record.image, done=False)  # will be published when ready
            raise Conflict(
                "The image is still processing; publish it when ready (or upload with publish=true)."
            )
        if record.status == Status.FAILED:
            raise MediaFailed(record.image.error.message if record.image.error else None)
        if record.image.public and "publication" not in record.extra:
            return Outcome(record.image, done=True)
        return await self._request(
            record, PublishJob(image_id=image_id, account=account, job_id=new_token()), wait_s
        )

    async def unpublish(self, account: str, image_id: str, wait_s: float) -> Outcome:
        record = await self.store.get(account, image_id)
        if record.status == Status.PROCESSING:
            raise Conflict("The image is still processing.")
        if not record.image.public and "publication" not in record.extra:
            return Outcome(record.image, done=True)
        return await self._request(
            record, UnpublishJob(image_id=image_id, account=account, job_id=new_token()), wait_s
        )

    async def _request(self, record: Record, job: ImageJob, wait_s: float) -> Outcome:
        def claim(r: Record) -> Record | None:
            return r.with_extra(publication=job.job_id) if r.status != Status.PROCESSING else None

        claimed = await self.store.update(record.id, claim)
        if claimed.extra.get("publication") != job.job_id:
            raise Conflict("The image changed state; try again.")
        await self.queue.asend(job)

        async def applied() -> Record | None:
            current = await self.store.load(record.id)
            return current if current.extra.get("publication") != job.job_id else None

        done = await self.hub.wait_until(record.id, applied, wait_s)
        if done is not None:
            return Outcome(done.image, done=True)
        return Outcome((await self.store.load(record.id)).image, done=False)

    async def delete(self, account: str, image_id: str) -> Image:
        """Gone for callers at once; storage is swept by a ``delete`` job."""
        record = await self.store.get(account, image_id)
        await self.store.delete(image_id)
        await self.queue.asend(
            DeleteJob(
                image_id=image_id,
                account=account,
                job_id=new_token(),
                public_urls=public_urls(record.image),
                original_checksum=record.extra.get("original_checksum"),
            )
        )
        return record.image

    async def refresh(self, account: str, image_id: str) -> Image:
        record = await self.store.get(account, image_id)
        if not record.extra.get("source_url"):
            raise InvalidRequest("Only images created from a URL can be refreshed.", field="id")
        if record.status == Status.PROCESSING:
            raise Conflict("The image is already processing.")
        await self.queue.asend(RefreshJob(image_id=image_id, account=account, job_id=new_token()))
        return record.image
