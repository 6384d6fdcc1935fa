"""``ImageStore``: image records in Redis with atomic, version-guarded transitions.

Every write is a compare-and-set on ``version`` (``cas.lua``), which also appends the
transition to ``darkroom:events`` in the same atomic step. Writers describe a change as a
pure function of the current record; the store re-reads and re-applies it on a lost race,
so concurrent writers never overwrite each other and the state machine is enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from typing import cast

import structlog
from redis.asyncio import Redis

from jobs.contract.constants import (
    DEADLINES_KEY,
    EVENTS_KEY,
    EVENTS_MAXLEN,
    EXPIRIES_KEY,
    IMAGE_COUNTS_KEY,
    account_images_key,
    account_names_key,
    image_key,
    name_index_member,
    record_key,
)
from jobs.contract.errors import Conflict, NotFound
from jobs.contract.ids import is_image_id
from jobs.contract.models import Image, utcnow
from jobs.contract.states import check_transition
from jobs.plumbing.storage import Storage
from jobs.plumbing.store.errors import redis_errors
from jobs.plumbing.store.records import Record

log = structlog.get_logger(__name__)

Change = Callable[[Record], Record | None]


def is_expired(image: Image) -> bool:
    """Past ``expires_at``: gone for callers even before the sweep deletes it."""
    return image.expires_at is not None and image.expires_at <= utcnow()


MAX_CAS_ATTEMPTS = 50


def _script(name: str) -> str:
    return resources.files("jobs.plumbing.store").joinpath(name).read_text()


class ImageStore:
    def __init__(self, redis: Redis, storage: Storage | None = None) -> None:
        self.redis = redis
        self.storage = storage
        self._cas = redis.register_script(_script("cas.lua"))
        self._delete = redis.register_script(_script("delete.lua"))

    # --- reads ----------------------------------------------------------------------------------

    async def load(self, image_id: str) -> Record:
        if not is_image_id(image_id):
            raise NotFound(f"No image {image_id[:64]!r}.")
        with redis_errors():
            raw = cast(dict[bytes, bytes], await self.redis.hgetall(image_key(image_id)))
        if not raw:
            raise NotFound(f"No image {image_id!r}.")
        return Record.from_hash(raw)

    async def get(self, account: str, image_id: str) -> Record:
        """The record, if it belongs to ``account`` (another account's id is a plain 404)."""
        record = await self.load(image_id)
        if record.account != account or is_expired(record.image):
            raise NotFound(f"No image {image_id!r}.")
        return record

    async def load_many(self, image_ids: list[str]) -> list[Record | None]:
        if not image_ids:
            return []
        with redis_errors():
            async with self.redis.pipeline(transaction=False) as pipe:
                for image_id in image_ids:
                    pipe.hgetall(image_key(image_id))
                rows: list[dict[bytes, bytes]] = await pipe.execute()
        return [Record.from_hash(row) if row else None for row in rows]

    async def due(self, index: str, until: float, limit: int) -> tuple[list[Record], int]:
        """Records whose score in the time index ``index`` (deadlines, expiries) is ≤ ``until``.

        Ids whose record is gone are dropped from the index; returns (records, how many were).
        """
        with redis_errors():
            due = cast(list[bytes], await self.redis.zrangebyscore(index, "-inf", until, start=0, num=limit))
        records = await self.load_many([member.decode() for member in due])
        gone = [member for member, record in zip(due, records, strict=True) if record is None]
        if gone:
            with redis_errors():
                await self.redis.zrem(index, *gone)
        return [record for record in records if record is not None], len(gone)

    # --- writes ---------------------------------------------------------------------------------

    async def create(self, record: Record) -> Record:
        """Insert a new record (version 1); fails with Conflict if the id exists."""
        stored = replace(record, image=record.image.evolve(version=1))
        if not await self._write(stored, expected_version=0):
            raise Conflict(f"Image {record.id} already exists.")
        await self.write_sidecar(stored)
        return stored

    async def update(self, image_id: str, change: Change, *, known: Record | None = None) -> Record:
        """Apply ``change`` atomically; ``change`` returns None for "nothing to do".

        Returns the record as stored afterwards. A status change must be allowed by the
        state machine; version and ``updated_at`` are set here, never by callers.
        ``known``: a copy the caller just read, tried first instead of reading again. The
        write is guarded by its version, so a stale copy only costs a retry.
        """
        for attempt in range(MAX_CAS_ATTEMPTS):
            current = known if attempt == 0 and known is not None else await self.load(image_id)
            proposed = change(current)
            if proposed is None:
                return current
            if proposed.status != current.status:
                check_transition(current.status, proposed.status)
            stored = replace(
                proposed,
                image=proposed.image.evolve(version=current.version + 1, updated_at=utcnow()),
                account=current.account,
            )
            if await self._write(stored, expected_version=current.version):
                await self.write_sidecar(stored)
                return stored
            log.debug("image.cas_retry", image_id=image_id, version=current.version)
        raise Conflict(f"Image {image_id} is being changed too often; try again.")

    async def delete(self, image_id: str) -> bool:
        """Remove the record and its index entry (storage objects are the caller's job)."""
        try:
            record = await self.load(image_id)
        except NotFound:
            return False
        with redis_errors():
            removed = await self._delete(
                keys=self._keys(image_id, record.account),
                args=[
                    image_id,
                    record.account,
                    EVENTS_MAXLEN,
                    name_index_member(record.image.name, image_id),
                ],
            )
        return bool(removed)

    async def announce(self, image_id: str, account: str, event: str) -> None:
        """Wake waiters on an image without a record change (e.g. a derivative was rendered)."""
        with redis_errors():
            await self.redis.xadd(
                EVENTS_KEY,
                {"id": image_id, "account": account, "status": event, "version": "0"},
                maxlen=EVENTS_MAXLEN,
                approximate=True,
            )

    async def write_sidecar(self, record: Record) -> None:
        if self.storage is not None:
            await self.storage.put(
                record_key(record.id), record.to_sidecar(), content_type="application/json"
            )

    async def restore(self, record: Record) -> bool:
        """Put a record read from a sidecar back into Redis unless a newer one is there."""
        try:
            current = await self.load(record.id)
        except NotFound:
            return await self._write(record, expected_version=0)
        if current.version >= record.version:
            return False
        return await self._write(record, expected_version=current.version)

    async def _write(self, record: Record, *, expected_version: int) -> bool:
        image: Image = record.image
        with redis_errors():
            written = await self._cas(
                keys=self._keys(image.id, record.account),
                args=[
                    expected_version,
                    image.version,
                    image.status.value,
                    record.account,
                    image.id,
                    int(image.created_at.timestamp() * 1000),
                    EVENTS_MAXLEN,
                    name_index_member(image.name, image.id),
                    image.to_json(),
                    record.state_json(),
                    repr(record.deadline) if record.deadline is not None else "",
                    repr(image.expires_at.timestamp()) if image.expires_at is not None else "",
                ],
            )
        return bool(written)

    @staticmethod
    def _keys(image_id: str, account: str) -> list[str]:
        return [
            image_key(image_id),
            EVENTS_KEY,
            account_images_key(account),
            account_names_key(account),
            DEADLINES_KEY,
            EXPIRIES_KEY,
            IMAGE_COUNTS_KEY,
        ]
