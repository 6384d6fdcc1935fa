"""ImageStore against a real redis-server: CAS writes, state machine, events, sidecars."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobs.contract.constants import (
    DEADLINES_KEY,
    EVENTS_KEY,
    EXPIRIES_KEY,
    account_images_key,
    image_key,
    record_key,
)
from jobs.contract.errors import Conflict, NotFound
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image, ImageError
from jobs.contract.states import Status
from jobs.plumbing.storage.memory import MemoryStorage
from jobs.plumbing.store import ImageStore, Record

Runner = Callable[..., Any]


def new_record(account: str = "acme", name: str = "cat") -> Record:
    return Record(image=Image(id=new_image_id(), name=name, filename=f"{name}.jpg"), account=account)


async def test_create_then_load_round_trips_every_field(store: ImageStore, storage: MemoryStorage) -> None:
    record = new_record()
    stored = await store.create(record.with_job({"job_id": "j1", "kind": "upload"}, 123.5))
    loaded = await store.load(record.id)
    assert loaded == stored
    assert loaded.version == 1 and loaded.status == Status.PROCESSING
    assert loaded.job_id == "j1" and loaded.deadline == 123.5
    sidecar = Record.from_sidecar(await storage.get(record_key(record.id)))
    assert sidecar == stored
    assert await store.redis.zscore(account_images_key("acme"), record.id) is not None


async def test_create_twice_is_a_conflict(store: ImageStore) -> None:
    record = new_record()
    await store.create(record)
    with pytest.raises(Conflict):
        await store.create(record)


async def test_get_scopes_by_account(store: ImageStore) -> None:
    record = await store.create(new_record(account="acme"))
    assert (await store.get("acme", record.id)).id == record.id
    with pytest.raises(NotFound):
        await store.get("globex", record.id)
    with pytest.raises(NotFound):
        await store.load("image_" + "a" * 24)
    with pytest.raises(NotFound):
        await store.load("../../etc/passwd")


async def test_update_bumps_version_and_emits_event(store: ImageStore, storage: MemoryStorage) -> None:
    record = await store.create(new_record())
    before = record.image.updated_at
    ready = await store.update(record.id, lambda r: r.evolve(status=Status.READY, width=10, height=20))
    assert ready.version == 2 and ready.status == Status.READY
    assert ready.image.width == 10 and ready.image.updated_at >= before
    events = await store.redis.xrange(EVENTS_KEY)
    statuses = [fields[b"status"] for _, fields in events if fields[b"id"] == record.id.encode()]
    assert statuses == [b"processing", b"ready"]
    assert json.loads(await storage.get(record_key(record.id)))["image"]["version"] == 2


async def test_state_machine_refuses_illegal_transitions(store: ImageStore) -> None:
    record = await store.create(new_record())
    await store.update(
        record.id, lambda r: r.evolve(status=Status.FAILED, error=ImageError(code="x", message="y"))
    )
    with pytest.raises(Conflict):
        await store.update(record.id, lambda r: r.evolve(status=Status.READY))
    # failed → processing (retry) is allowed
    again = await store.update(record.id, lambda r: r.evolve(status=Status.PROCESSING, error=None))
    assert again.status == Status.PROCESSING and again.version == 3


async def test_none_change_is_a_no_op(store: ImageStore) -> None:
    record = await store.create(new_record())
    same = await store.update(record.id, lambda r: None)
    assert same.version == 1
    assert await store.redis.hget(image_key(record.id), "version") == b"1"


async def test_concurrent_updates_never_lose_a_write(store: ImageStore) -> None:
    """50 concurrent read-modify-write increments through CAS: every one lands exactly once."""

    record = await store.create(new_record())

    def bump(r: Record) -> Record:
        count = int(r.image.metadata.get("n", 0))
        return r.evolve(metadata={"n": count + 1})

    await asyncio.gather(*(store.update(record.id, bump) for _ in range(50)))
    final = await store.load(record.id)
    assert final.image.metadata["n"] == 50
    assert final.version == 51


async def test_update_from_a_known_copy_skips_the_read_and_survives_a_stale_one(store: ImageStore) -> None:
    record = await store.create(new_record())
    seen: list[int] = []

    def caption(text: str) -> Callable[[Record], Record]:
        def change(r: Record) -> Record:
            seen.append(r.version)
            return r.evolve(caption=text)

        return change

    first = await store.update(record.id, caption("first"), known=record)
    assert (first.version, seen) == (2, [1])  # applied to the copy given: no read needed
    seen.clear()
    second = await store.update(record.id, caption("second"), known=record)  # version 1: stale
    assert seen == [1, 2]  # refused by the version guard, then applied to a fresh read
    assert (second.version, second.image.caption) == (3, "second")
    assert (await store.load(record.id)).image.caption == "second"


async def test_stale_version_write_is_refused(store: ImageStore) -> None:
    record = await store.create(new_record())
    await store.update(record.id, lambda r: r.evolve(caption="newer"))
    stale = record.evolve(caption="older")
    assert await store._write(stale, expected_version=1) is False
    assert (await store.load(record.id)).image.caption == "newer"


async def test_delete_removes_record_and_index(store: ImageStore) -> None:
    record = await store.create(new_record())
    assert await store.delete(record.id) is True
    assert await store.delete(record.id) is False
    with pytest.raises(NotFound):
        await store.load(record.id)
    assert await store.redis.zscore(account_images_key("acme"), record.id) is None


async def test_restore_only_moves_forward(store: ImageStore) -> None:
    record = await store.create(new_record())
    newer = await store.update(record.id, lambda r: r.evolve(caption="v2"))
    assert await store.restore(record) is False  # older sidecar never wins
    await store.redis.delete(image_key(record.id))
    assert await store.restore(newer) is True
    assert (await store.load(record.id)).image.caption == "v2"


async def test_reaper_and_expiry_indexes_follow_the_record(store: ImageStore) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    record = new_record().evolve(expires_at=expires).with_job({"job_id": "j"}, 1000.0)
    created = await store.create(record.with_extra(source_url="https://x/y.jpg"))
    assert await store.redis.zscore(DEADLINES_KEY, created.id) == 1000.0
    assert await store.redis.zscore(EXPIRIES_KEY, created.id) == pytest.approx(expires.timestamp())
    done = await store.update(created.id, lambda r: r.evolve(status=Status.READY).with_job(None, None))
    assert await store.redis.zscore(DEADLINES_KEY, created.id) is None
    assert done.extra == {"source_url": "https://x/y.jpg"}  # internal facts survive updates
    assert (await store.load(created.id)).extra == done.extra
    await store.delete(created.id)
    assert await store.redis.zscore(EXPIRIES_KEY, created.id) is None


async def test_due_lists_records_past_their_time_and_prunes_vanished_ids(store: ImageStore) -> None:
    early = await store.create(new_record(name="early").with_job({"job_id": "a"}, 100.0))
    late = await store.create(new_record(name="late").with_job({"job_id": "b"}, 900.0))
    ghost = new_image_id()
    await store.redis.zadd(DEADLINES_KEY, {ghost: 50.0})  # its record is gone
    records, vanished = await store.due(DEADLINES_KEY, until=500.0, limit=10)
    assert ([r.id for r in records], vanished) == ([early.id], 1)  # late is not due yet
    assert await store.redis.zscore(DEADLINES_KEY, ghost) is None
    assert await store.redis.zscore(DEADLINES_KEY, late.id) == 900.0
    records, _ = await store.due(DEADLINES_KEY, until=1000.0, limit=1)
    assert [r.id for r in records] == [early.id]  # oldest first, at most ``limit``
