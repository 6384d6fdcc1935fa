"""claim_for_job against a real redis-server: one compare-and-set, one winner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from jobs.contract.ids import new_image_id
from jobs.contract.models import Image, ImageError
from jobs.contract.states import Status
from jobs.plumbing.store import ImageStore, Record
from jobs.plumbing.store.claims import claim_for_job, owned_by

Runner = Callable[..., Any]


async def failed_image(store: ImageStore) -> Record:
    image = Image(id=new_image_id(), name="cat", filename="cat.jpg", metadata={})
    record = await store.create(Record(image=image, account="acme").with_job({"job_id": "j0"}, 1.0))
    failed = record.evolve(status=Status.FAILED, error=ImageError(code="timeout", message="slow"))
    return await store.update(record.id, lambda _: failed.with_job(None, None))


async def test_a_claim_makes_the_job_the_owner(store: ImageStore) -> None:
    record = await failed_image(store)
    claimed = await claim_for_job(
        store,
        record.id,
        {"job_id": "j1", "kind": "upload"},
        99.5,
        when=lambda r: r.status == Status.FAILED,
        extra=lambda r: {"tries": r.version},
    )
    assert claimed is not None
    stored = await store.load(record.id)
    assert stored == claimed
    assert stored.status == Status.PROCESSING and stored.image.error is None
    assert stored.job == {"job_id": "j1", "kind": "upload"} and stored.deadline == 99.5
    assert stored.extra["tries"] == record.version  # computed from the record it replaced
    assert owned_by(stored, "j1") and not owned_by(stored, "j0")


async def test_a_claim_the_record_refuses_changes_nothing(store: ImageStore) -> None:
    record = await failed_image(store)
    refused = await claim_for_job(
        store, record.id, {"job_id": "j1"}, 5.0, when=lambda r: r.status == Status.READY
    )
    assert refused is None
    assert await store.load(record.id) == record


async def test_of_racing_claims_exactly_one_wins(store: ImageStore) -> None:
    record = await failed_image(store)
    results = await asyncio.gather(
        *(
            claim_for_job(
                store, record.id, {"job_id": f"j{n}"}, 10.0 + n, when=lambda r: r.status == Status.FAILED
            )
            for n in range(5)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await store.load(record.id)).job_id == winners[0].job_id


def test_a_record_is_owned_only_while_processing_for_that_job() -> None:
    image = Image(id=new_image_id(), name="cat", filename="cat.jpg", metadata={})
    processing = Record(image=image, account="acme", job={"job_id": "j1"})
    assert owned_by(processing, "j1")
    assert not owned_by(processing, "j2")
    assert not owned_by(
        Record(image=image.evolve(status=Status.READY), account="acme", job={"job_id": "j1"}), "j1"
    )
