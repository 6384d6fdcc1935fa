"""``darkroom fsck``: what no record owns and what records miss, on local storage and S3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from jobs.contract.constants import master_key, original_key, record_key, size_key
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image, ImageError, SizeVariant
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.storage import Storage, open_storage
from jobs.plumbing.store import ImageStore, Record
from jobs.services.admin import fsck as fsck_module
from jobs.services.admin.fsck import (
    EVERY_KIND,
    ORIGINALS_ONLY,
    Fsck,
    FsckReport,
    Problem,
    read_summary,
    save_summary,
)

Scenario = Callable[[ImageStore, Storage], Awaitable[Any]]


async def run(settings: Settings, scenario: Scenario) -> Any:
    redis = Redis.from_url(settings.redis_url)
    storage = await open_storage(settings)
    try:
        return await scenario(ImageStore(redis, storage), storage)
    finally:
        await storage.close()
        await redis.aclose()


async def image(store: ImageStore, status: Status, **fields: Any) -> Record:
    """A record (and its sidecar) created processing, then moved to ``status`` with ``fields``."""
    created = await store.create(
        Record(image=Image(id=new_image_id(), name="cat", filename="cat.jpg"), account="acme").with_job(
            {"job_id": "j1", "kind": "upload"}, 1e10
        )
    )
    if status == Status.PROCESSING:
        return created
    return await store.update(created.id, lambda r: r.evolve(status=status, **fields).with_job(None, None))


SIZES = {"small": SizeVariant(width=4, height=3)}


async def a_messy_store(store: ImageStore, storage: Storage) -> dict[str, Problem | None]:
    """Every kind of state; returns key → the problem fsck must find there (None: healthy)."""
    expected: dict[str, Problem | None] = {}

    async def put(key: str, problem: str | None, image_id: str | None) -> None:
        await storage.put(key, b"x")
        expected[key] = Problem(problem, key, image_id) if problem else None

    ready = await image(store, Status.READY, format="jpeg", sizes=SIZES)
    for key in (original_key(ready.id), master_key(ready.id, "jpeg"), size_key(ready.id, "small", "jpeg")):
        await put(key, None, ready.id)
    await put(master_key(ready.id, "png"), "orphan", ready.id)  # an older job's format, lost race
    await put(f"derived/{ready.id}/abc.webp", None, ready.id)  # its render cache
    await put(f"public/{ready.id}/master.jpg", "orphan", ready.id)  # not published

    refused = new_image_id()  # a staged original whose record was never written
    await put(original_key(refused), "orphan", refused)

    failed = await image(store, Status.FAILED, error=ImageError(code="media_failed", message="x"))
    await put(original_key(failed.id), None, failed.id)  # kept: a failed upload can be retried
    await put(master_key(failed.id, "jpeg"), "orphan", failed.id)

    blocked = await image(store, Status.FAILED, error=ImageError(code="media_blocked", message="x"))
    await put(original_key(blocked.id), "orphan", blocked.id)

    running = await image(store, Status.PROCESSING)
    await put(original_key(running.id), None, running.id)
    await put(master_key(running.id, "webp"), None, running.id)  # its job is writing right now

    broken = await image(store, Status.READY, format="jpeg", sizes=SIZES)
    await put(original_key(broken.id), None, broken.id)
    await put(size_key(broken.id, "small", "jpeg"), None, broken.id)
    expected[master_key(broken.id, "jpeg")] = Problem("missing", master_key(broken.id, "jpeg"), broken.id)

    lost = new_image_id()  # Redis lost the record; its sidecar can bring it back (reindex)
    await storage.put(record_key(lost), (await store.load(ready.id)).to_sidecar())
    expected[record_key(lost)] = Problem("unindexed", record_key(lost), lost)
    await put(original_key(lost), "unindexed", lost)

    await put("images/not-an-id/master.jpg", "foreign", None)
    for record in (ready, failed, blocked, running, broken):
        expected[record_key(record.id)] = None
    return expected


def problems_of(expected: dict[str, Problem | None]) -> list[Problem]:
    return sorted((p for p in expected.values() if p is not None), key=lambda p: p.key)


async def test_fsck_finds_every_orphan_and_every_missing_object(storage_settings: Settings) -> None:
    async def scenario(
        store: ImageStore, storage: Storage
    ) -> tuple[list[Problem], FsckReport, list[Problem]]:
        expected = await a_messy_store(store, storage)
        found: list[Problem] = []
        report = await Fsck(store, storage, grace_s=0, on_problem=found.append).run()
        return problems_of(expected), report, sorted(found, key=lambda p: p.key)

    expected, report, found = await run(storage_settings, scenario)
    assert found == expected
    assert report.found == {"orphan": 5, "missing": 1, "unindexed": 2, "foreign": 1}
    assert (report.records, report.repaired, report.remaining) == (5, 0, 9)
    assert report.as_dict()["clean"] is False


async def test_repair_removes_orphans_only_and_a_second_run_finds_none(storage_settings: Settings) -> None:
    async def scenario(
        store: ImageStore, storage: Storage
    ) -> tuple[FsckReport, FsckReport, set[str], set[str]]:
        expected = await a_messy_store(store, storage)
        repaired = await Fsck(store, storage, grace_s=0, repair=EVERY_KIND).run()
        again = await Fsck(store, storage, grace_s=0).run()
        kept = {k for k, p in expected.items() if p is None or p.kind != "orphan"} - {
            k for k, p in expected.items() if p is not None and p.kind == "missing"
        }
        return repaired, again, kept, {o.key async for o in storage.scan("")}

    repaired, again, kept, left = await run(storage_settings, scenario)
    assert (repaired.found["orphan"], repaired.repaired) == (5, 5)
    assert again.found == {"orphan": 0, "missing": 1, "unindexed": 2, "foreign": 1}
    assert left == kept  # every owned object, the unindexed and the foreign one stay


async def test_the_scheduler_sweep_removes_staged_originals_only(settings: Settings) -> None:
    async def scenario(store: ImageStore, storage: Storage) -> tuple[FsckReport, set[str]]:
        expected = await a_messy_store(store, storage)
        report = await Fsck(store, storage, grace_s=0, repair=ORIGINALS_ONLY).run()
        gone = {k for k, p in expected.items() if p is not None and p.kind != "missing"} - {
            o.key async for o in storage.scan("")
        }
        return report, gone

    report, gone = await run(settings, scenario)
    assert report.repaired == 2 and {k.split("/")[0] for k in gone} == {"originals"}  # refused, blocked


async def test_nothing_within_the_grace_period_is_judged_or_removed(settings: Settings) -> None:
    async def scenario(store: ImageStore, storage: Storage) -> tuple[FsckReport, int, int]:
        expected = await a_messy_store(store, storage)
        report = await Fsck(store, storage, grace_s=3600, repair=EVERY_KIND).run()
        return report, len([k for k, p in expected.items() if p is None or p.kind != "missing"]), 5

    report, objects, records = await run(settings, scenario)
    assert report.found == {"orphan": 0, "missing": 0, "unindexed": 0, "foreign": 0}
    assert (report.objects, report.recent, report.repaired) == (objects, objects + records, 0)


async def test_memory_stays_bounded_the_listing_is_streamed_and_checked_in_batches(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never ``list()`` (which holds every key of a prefix), at most BATCH ids per Redis read."""
    monkeypatch.setattr(fsck_module, "BATCH", 3)
    reads: list[int] = []

    class Counting(ImageStore):
        async def load_many(self, image_ids: list[str]) -> list[Record | None]:
            reads.append(len(image_ids))
            return await super().load_many(image_ids)

    async def scenario(store: ImageStore, storage: Storage) -> FsckReport:
        for _ in range(10):
            await image(store, Status.PROCESSING)
            await storage.put(original_key(new_image_id()), b"x")

        async def no_list(prefix: str) -> list[object]:
            raise AssertionError("fsck must stream, not list")

        monkeypatch.setattr(storage, "list", no_list)
        counting = Counting(store.redis, storage)
        return await Fsck(counting, storage, grace_s=0).run()

    report = await run(settings, scenario)
    assert report.found["orphan"] == 10 and report.records == 10
    assert reads and max(reads) <= 3


async def test_the_summary_is_what_metrics_export(settings: Settings) -> None:
    async def scenario(store: ImageStore, storage: Storage) -> dict[str, float] | None:
        report = FsckReport(found={"orphan": 4, "missing": 1, "unindexed": 0, "foreign": 2}, repaired=3)
        await save_summary(store.redis, report, at=1234.0)
        return await read_summary(store.redis)

    assert await run(settings, scenario) == {
        "orphan": 1.0, "missing": 1.0, "unindexed": 0.0, "foreign": 2.0, "repaired": 3.0, "at": 1234.0,
    }  # fmt: skip
