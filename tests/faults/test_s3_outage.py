"""The S3 server is stopped for 10 s mid-run: every accepted job still ends ``ready``.

Jobs that hit the outage fail with ``StorageUnavailable`` (transient) and retry with
backoff; ``MAX_RETRIES=12`` with 0.2–2 s backoff spans well over 10 s. Meanwhile the API
answers what needs storage (uploads, downloads) with 503 ``unavailable``, never a 500, and
keeps serving what needs only Redis (gets, lists). A refused upload leaves neither an image
nor an object behind.
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
from tests.support.hammer import Hammer
from tests.support.images import oriented_jpeg
from tests.support.servers import S3Server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BACKLOG = 60
OUTAGE_S = 10.0


def test_s3_down_for_10_s_mid_run_loses_no_job_and_the_api_answers_503(
    make_stack: Callable[..., Stack],
    fault_settings: Callable[..., Settings],
    restartable_s3: tuple[S3Server, str],
) -> None:
    s3, bucket = restartable_s3
    settings = fault_settings(
        storage_url=f"s3://{bucket}/darkroom", s3_endpoint_url=s3.endpoint_url, s3_region="us-east-1"
    )
    stack = make_stack(settings)
    redis_url = stack.settings.redis_url
    known = stack.client.wait(stack.client.upload(oriented_jpeg(64, 48, 1)).id, timeout=30)
    ids = queue_backlog(stack, BACKLOG)

    with Hammer(stack.base_url, "k1", oriented_jpeg(320, 240, 1), known.id) as hammer:
        wait_until(lambda: status_counts(redis_url, ids)["ready"] >= 10, "10 ready", 60)
        assert status_counts(redis_url, ids)["processing"] > 0, "the outage must start mid-run"
        down = time.monotonic()
        s3.stop()
        wait_until(lambda: time.monotonic() - down >= OUTAGE_S, "the outage to last 10 s", OUTAGE_S + 1)
        stuck = status_counts(redis_url, ids)["processing"]
        up = time.monotonic()
        s3.start()
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
    print(
        f"S3 down {up - down:.1f} s with {stuck} jobs waiting; answers sent meanwhile: "
        f"{dict(Hammer.tally(during))} (slowest {Hammer.slowest(during):.1f} s); "
        f"all answers: {dict(Hammer.tally(hammer.answers))}"
    )
    assert stuck > 0, "jobs were waiting for storage when it came back"
    assert {a.status for a in hammer.answers} <= {200, 202, 503}, Hammer.tally(hammer.answers)
    needs_storage = [a for a in during if a.kind in {"upload", "download"}]
    assert {a.kind for a in needs_storage} == {"upload", "download"}
    assert {(a.status, a.error) for a in needs_storage} == {(503, "unavailable")}
    assert {a.status for a in during if a.kind in {"get", "list"}} == {200}  # they need only Redis
    assert not_ready(records) == {}
    assert account_image_ids(redis_url, "acme") == {known.id, *accepted}, "one image per 202, none per 503"
    assert audit_objects(storage_keys(stack.settings), {known.id, *accepted}) == []
