"""Intake: once the record is in Redis the request is accepted, whatever fails after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from jobs.contract.constants import DEADLINES_KEY, account_images_key, original_key, record_key
from jobs.contract.errors import BrokerUnavailable, StorageUnavailable
from jobs.contract.payloads import ImageJob, JobPayload
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.storage.memory import MemoryStorage
from jobs.plumbing.store import ImageStore, Record
from jobs.services.intake import Intake, UploadOptions
from jobs.services.rollback import Rollbacks
from tests.support.images import oriented_jpeg


class SidecarsDown(MemoryStorage):
    """Storage that goes down right after the original was staged (sidecars fail)."""

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        if key.startswith("records/"):
            raise StorageUnavailable("S3 unreachable")
        await super().put(key, data, content_type=content_type)


class Queue:
    def __init__(self, down: bool) -> None:
        self.down = down
        self.sent: list[JobPayload] = []

    async def asend(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        if self.down:
            raise BrokerUnavailable()
        self.sent.append(job)
        return "m1"


class RecordNotWritten(ImageStore):
    async def create(self, record: Record) -> Record:
        raise BrokerUnavailable()


async def upload(
    settings: Settings,
    storage: MemoryStorage,
    queue: Queue,
    redis_url: str,
    store: type[ImageStore] = ImageStore,
) -> Any:
    redis = Redis.from_url(redis_url)
    try:
        records = store(redis, storage)
        rollbacks = Rollbacks(records, storage, queue)
        intake = Intake(settings, records, storage, queue, rollbacks)
        image = await intake.upload_bytes("acme", oriented_jpeg(8, 8, 1), UploadOptions())
        members = cast(list[bytes], await redis.zrange(account_images_key("acme"), 0, -1))
        return image, [m.decode() for m in members], await redis.zscore(DEADLINES_KEY, image.id)
    finally:
        await redis.aclose()


@pytest.mark.parametrize(
    ("make_storage", "queue_down"),
    [(SidecarsDown, False), (MemoryStorage, True), (SidecarsDown, True)],
    ids=["sidecar fails", "enqueue fails", "both fail"],
)
async def test_a_created_record_is_an_accepted_request(
    settings: Settings, redis_url: str, make_storage: Callable[[], MemoryStorage], queue_down: bool
) -> None:
    storage, queue = make_storage(), Queue(down=queue_down)
    image, listed, deadline = await upload(settings, storage, queue, redis_url)

    assert image.status == Status.PROCESSING
    assert listed == [image.id]  # exactly one image, which a 503 would have invited a retry to double
    assert deadline is not None  # the reaper sends the job if the enqueue did not
    assert original_key(image.id) in storage.objects
    sent = [job.image_id if isinstance(job, ImageJob) else job for job in queue.sent]
    assert sent == ([] if queue_down else [image.id])
    assert (record_key(image.id) in storage.objects) is not isinstance(storage, SidecarsDown)


async def test_a_record_that_was_not_written_is_a_503(settings: Settings, redis_url: str) -> None:
    with pytest.raises(BrokerUnavailable):
        await upload(settings, MemoryStorage(), Queue(down=False), redis_url, store=RecordNotWritten)


async def test_an_upload_answered_503_leaves_no_staged_original(settings: Settings, redis_url: str) -> None:
    storage = MemoryStorage()
    with pytest.raises(BrokerUnavailable):
        await upload(settings, storage, Queue(down=False), redis_url, store=RecordNotWritten)
    assert list(storage.objects) == []


class NothingDeletes(MemoryStorage):
    async def delete(self, key: str) -> None:
        raise StorageUnavailable("S3 unreachable")


async def test_a_failed_cleanup_still_answers_503(settings: Settings, redis_url: str) -> None:
    """The original then stays for fsck's sweep; the caller still gets Redis's 503, not storage's."""
    storage = NothingDeletes()
    with pytest.raises(BrokerUnavailable):
        await upload(settings, storage, Queue(down=False), redis_url, store=RecordNotWritten)
    assert [key.split("/")[0] for key in storage.objects] == ["originals"]


class RecordLandsRedisDies(ImageStore):
    """Redis applies the record and dies before replying; it answers again after two reads."""

    outage_reads = 2

    async def create(self, record: Record) -> Record:
        await super().create(record)
        raise BrokerUnavailable()

    async def load(self, image_id: str) -> Record:
        if self.outage_reads > 0:
            self.outage_reads -= 1
            raise BrokerUnavailable()
        return await super().load(image_id)


class RecordLostRedisDies(RecordLandsRedisDies):
    async def create(self, record: Record) -> Record:
        raise BrokerUnavailable()


@pytest.mark.parametrize("store_class", [RecordLandsRedisDies, RecordLostRedisDies], ids=["landed", "lost"])
async def test_a_refused_upload_whose_record_redis_could_not_confirm_is_rolled_back(
    settings: Settings, redis_url: str, store_class: type[ImageStore]
) -> None:
    """Answered 503 either way; once Redis answers, no image and no object of it remain, and a
    record that landed after all is deleted with a sweep of its storage (a delete job)."""
    storage, queue = MemoryStorage(), Queue(down=False)

    async def main() -> tuple[list[bytes], list[JobPayload]]:
        redis = Redis.from_url(redis_url)
        try:
            store = store_class(redis, storage)
            rollbacks = Rollbacks(store, storage, queue)
            intake = Intake(settings, store, storage, queue, rollbacks)
            with pytest.raises(BrokerUnavailable):
                await intake.upload_bytes("acme", oriented_jpeg(8, 8, 1), UploadOptions())
            await rollbacks.wait()
            listed = cast(list[bytes], await redis.zrange(account_images_key("acme"), 0, -1))
            return listed, queue.sent
        finally:
            await redis.aclose()

    listed, sent = await main()
    assert listed == []
    assert list(storage.objects) == []
    landed = store_class is RecordLandsRedisDies
    assert [type(job).__name__ for job in sent] == (["DeleteJob"] if landed else [])
