"""``darkroom reindex``: Redis rebuilt from the storage sidecars alone."""

from __future__ import annotations

from jobs.contract.constants import DEADLINES_KEY, account_images_key, record_key
from jobs.contract.states import Status
from jobs.services.admin.reindex import reindex
from tests.support.records import Env


async def test_records_and_indexes_come_back_after_redis_is_lost(env: Env) -> None:
    ready = await env.add(Status.READY, account="acme")
    failed = await env.add(Status.FAILED, account="globex")
    processing = await env.add(Status.PROCESSING, account="acme", deadline=2e9)
    await env.storage.put(record_key("image_" + "z" * 24), b"{not json")
    await env.redis.flushdb()

    dry = await reindex(env.store, env.storage, dry_run=True)
    assert (dry.scanned, dry.restored, await env.redis.dbsize()) == (4, 3, 0)

    report = await reindex(env.store, env.storage)
    assert report.as_dict() == {
        "scanned": 4, "restored": 3, "unchanged": 0, "invalid": [record_key("image_" + "z" * 24)],
    }  # fmt: skip
    for before in (ready, failed, processing):
        after = await env.store.load(before.id)
        assert after == before  # same version, status, job, deadline, every image field
    assert set(await env.redis.zrange(account_images_key("acme"), 0, -1)) == {
        ready.id.encode(), processing.id.encode(),
    }  # fmt: skip
    assert await env.redis.zrange(DEADLINES_KEY, 0, -1) == [processing.id.encode()]

    again = await reindex(env.store, env.storage)  # idempotent: nothing newer to restore
    assert (again.restored, again.unchanged) == (0, 3)


async def test_a_newer_record_in_redis_is_kept(env: Env) -> None:
    record = await env.add(Status.PROCESSING)
    old_sidecar = await env.storage.get(record_key(record.id))
    newer = await env.store.update(record.id, lambda r: r.evolve(status=Status.READY).with_job(None, None))
    await env.storage.put(record_key(record.id), old_sidecar)  # storage lags behind Redis
    report = await reindex(env.store, env.storage)
    assert (report.restored, report.unchanged) == (0, 1)
    assert (await env.store.load(record.id)).version == newer.version
