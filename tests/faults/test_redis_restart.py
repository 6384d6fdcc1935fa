"""Redis crashes (SIGKILL) and comes back mid-run: every accepted job still ends ``ready``.

Redis runs with the durability this promise needs in production: append-only file with
``appendfsync always`` (``docs/operations.md``, "Redis persistence": nothing lost), so every
write acknowledged to the API or a worker — records, queues, unacked-message sets — is on
disk before the reply, and the restarted server holds it all. With ``everysec`` a crash can
lose the last second of acknowledged writes, and without persistence a restart empties Redis;
no software above Redis can promise anything about writes Redis itself forgot.

While Redis is down the API keeps answering: uploads, gets, lists and downloads all get 503
``unavailable`` (every request needs Redis, if only for its rate limit), never a 500, and a
refused upload leaves no image and no object behind: its staged original is deleted, and a
record Redis wrote just before dying (the reply lost) is rolled back once Redis is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from jobs.contract.settings import Settings
from tests.support.backlog import queue_backlog
from tests.support.e2e import Stack
from tests.support.faults import (
    account_image_ids,
    audit_objects,
    not_ready,
    status_counts,
    storage_keys,
    wait_settled,
    wait_until,
)
from tests.support.hammer import KINDS, Hammer
from tests.support.images import oriented_jpeg
from tests.support.servers import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BACKLOG = 120
MIN_DOWN_S = 3.0  # how long the outage lasts at least (the fault, not a wait for a result)


def test_redis_crash_mid_run_loses_no_job_and_the_api_answers_503(
    make_stack: Callable[..., Stack],
    fault_settings: Callable[..., Settings],
    persistent_redis: RedisServer,
) -> None:
    # an upload whose record was written just before the crash, but not its job, is accepted;
    # the reaper sends that job after STUCK_AFTER
    stack = make_stack(fault_settings(redis_url=persistent_redis.url, stuck_after=15.0))
    redis_url = persistent_redis.url
    known = stack.client.wait(stack.client.upload(oriented_jpeg(64, 48, 1)).id, timeout=30)
    ids = queue_backlog(stack, BACKLOG)

    with Hammer(stack.base_url, "k1", oriented_jpeg(320, 240, 1), known.id) as hammer:
        wait_until(lambda: status_counts(redis_url, ids)["ready"] >= 10, "10 ready", 60)
        assert status_counts(redis_url, ids)["processing"] > 0, "the crash must land mid-run"
        down = time.monotonic()
        persistent_redis.stop(hard=True)
        wait_until(
            lambda: (
                time.monotonic() - down > MIN_DOWN_S and len(hammer.sent_between(down, time.monotonic())) > 12
            ),
            "answers during the outage",
            30,
        )
        up = time.monotonic()
        persistent_redis.start()
        wait_until(
            lambda: any(
                a.kind == "upload" and a.status == 202 for a in hammer.sent_between(up, time.monotonic())
            ),
            "the API to accept uploads again",
            30,
        )

    during = [a for a in hammer.sent_between(down, up) if a.at <= up]
    accepted = [*ids, *hammer.accepted]
    records = wait_settled(redis_url, accepted, timeout=90)
    resent = sum(int(r.extra.get("resends", 0)) for r in records.values() if r is not None)
    print(
        f"Redis down {up - down:.1f} s; answers sent meanwhile: {dict(Hammer.tally(during))} "
        f"(slowest {Hammer.slowest(during):.1f} s); "
        f"all answers: {dict(Hammer.tally(hammer.answers))}; reaper re-sends: {resent}"
    )
    assert [a for a in hammer.answers if a.status >= 500 and a.status != 503] == []
    assert {a.status for a in hammer.answers} <= {200, 202, 503}
    assert {a.kind for a in during} == set(KINDS) and {a.status for a in during} == {503}
    assert {a.error for a in during} == {"unavailable"}
    assert not_ready(records) == {}
    # a 503 whose record Redis wrote before dying is undone once Redis answers (jobs.services.rollback)
    wanted = {known.id, *accepted}
    wait_until(
        lambda: (
            account_image_ids(redis_url, "acme") == wanted
            and audit_objects(storage_keys(stack.settings), wanted) == []
        ),
        "refused uploads to be rolled back",
        60,
        every=0.5,
    )
    assert account_image_ids(redis_url, "acme") == wanted, "one image per 202, none per 503"
    assert audit_objects(storage_keys(stack.settings), wanted) == []
