"""A real Redis, a memory storage and records in known states, for the operator readers' tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from jobs.contract.ids import new_image_id
from jobs.contract.models import Image, ImageError
from jobs.contract.states import Status
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore, Record


@dataclass
class Env:
    redis: Redis
    storage: Storage
    store: ImageStore

    async def add(
        self,
        status: Status,
        account: str = "acme",
        name: str = "cat",
        created_at: datetime | None = None,
        job: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Record:
        """A record created ``processing`` (owned by ``job``) and moved to ``status`` through the store."""
        image = Image(id=new_image_id(), name=name, filename=f"{name}.jpg")
        if created_at is not None:
            image = image.evolve(created_at=created_at)
        owner = job or {"job_id": "j-" + image.id[-6:], "kind": "upload"}
        record = await self.store.create(
            Record(image=image, account=account).with_job(owner, deadline if deadline is not None else 1e10)
        )
        if status == Status.READY:
            return await self.store.update(
                record.id, lambda r: r.evolve(status=Status.READY, format="jpeg").with_job(None, None)
            )
        if status == Status.FAILED:
            error = ImageError(code="media_failed", message="not an image")
            return await self.store.update(
                record.id, lambda r: r.evolve(status=Status.FAILED, error=error).with_job(None, None)
            )
        return record
