"""Image numbers: exact counts by status, oldest processing, recent images and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.contract.constants import DEADLINES_KEY
from jobs.contract.states import Status
from jobs.services.admin.images import image_counts, oldest_processing, recent_failures, recent_images
from tests.support.records import Env


async def test_counts_by_status_match_the_records(env: Env) -> None:
    assert (await image_counts(env.redis)).by_status == {"processing": 0, "ready": 0, "failed": 0}
    for status, n in ((Status.PROCESSING, 2), (Status.READY, 3), (Status.FAILED, 1)):
        for _ in range(n):
            await env.add(status, account="acme" if n != 3 else "globex")
    counts = await image_counts(env.redis)
    assert counts.by_status == {"processing": 2, "ready": 3, "failed": 1}
    assert counts.total == 6


async def test_counts_follow_every_transition_and_delete(env: Env) -> None:
    ready = await env.add(Status.READY)
    failed = await env.add(Status.FAILED)
    await env.store.update(ready.id, lambda r: r.evolve(status=Status.PROCESSING))  # reprocess
    await env.store.update(ready.id, lambda r: r.evolve(caption="no status change"))
    assert (await image_counts(env.redis)).by_status == {"processing": 1, "ready": 0, "failed": 1}
    await env.store.delete(failed.id)
    await env.store.delete(failed.id)  # a second delete changes nothing
    assert (await image_counts(env.redis)).by_status == {"processing": 1, "ready": 0, "failed": 0}


async def test_oldest_processing_is_the_earliest_created_among_the_deadlines(env: Env) -> None:
    now = datetime.now(UTC)

    assert await oldest_processing(env.redis) is None
    await env.add(Status.PROCESSING, created_at=now - timedelta(minutes=5), deadline=2e9)
    old = await env.add(
        Status.PROCESSING, account="globex", created_at=now - timedelta(hours=1), deadline=2e9
    )
    await env.add(Status.READY, created_at=now - timedelta(days=1))
    oldest = await oldest_processing(env.redis)
    assert oldest is not None and (oldest.image_id, oldest.account) == (old.id, "globex")
    assert 3590 < oldest.age_s < 3700
    assert await env.redis.zcard(DEADLINES_KEY) == 2  # the ready one left the reaper's index


async def test_recent_images_merge_accounts_newest_first(env: Env) -> None:
    now = datetime.now(UTC)

    a = await env.add(Status.READY, account="acme", created_at=now - timedelta(minutes=3))
    b = await env.add(Status.FAILED, account="globex", created_at=now - timedelta(minutes=2))
    c = await env.add(Status.PROCESSING, account="acme", created_at=now - timedelta(minutes=1))
    await env.add(Status.READY, account="initech", created_at=now)
    both = await recent_images(env.redis, {"acme", "globex"}, limit=10)
    assert [r.id for r in both] == [c.id, b.id, a.id]
    assert [r.id for r in await recent_images(env.redis, {"acme"}, limit=1)] == [c.id]
    assert await recent_images(env.redis, set(), limit=5) == []


async def test_recent_failures_are_still_failed_and_scoped(env: Env) -> None:
    mine = await env.add(Status.FAILED, account="acme")
    theirs = await env.add(Status.FAILED, account="globex")
    retried = await env.add(Status.FAILED, account="acme")
    await env.store.update(retried.id, lambda r: r.evolve(status=Status.PROCESSING, error=None))
    assert [r.id for r in await recent_failures(env.redis, {"acme"}, 10)] == [mine.id]
    assert {r.id for r in await recent_failures(env.redis, None, 10)} == {mine.id, theirs.id}
    (failure,) = await recent_failures(env.redis, {"globex"}, 10)
    assert failure.image.error is not None and failure.image.error.code == "media_failed"
