"""The Redis records both sides share: one declaration, written by one side, read by the other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import pytest

import jobs.services.rendering
import worker.pipeline.purge
import worker.pipeline.webhook
from jobs.api.routes.webhooks import WebhookAttempt
from jobs.contract.constants import webhook_attempts_key
from jobs.contract.errors import NotFound
from jobs.plumbing.store import ImageStore, purge_status, webhook_attempts
from jobs.plumbing.store.webhook_attempts import Attempt

Runner = Callable[..., Any]


def attempt(delivery_id: str, n: int) -> Attempt:
    return Attempt(
        delivery_id=delivery_id,
        event="image.ready",
        url="https://hooks.example.com/x",
        attempt=n,
        at="2026-01-01T00:00:00.000Z",
        status_code=500 if n == 1 else 200,
        error=None,
        duration_ms=12,
        delivered=n > 1,
    )


def test_the_worker_and_the_api_use_the_one_declaration() -> None:
    assert vars(worker.pipeline.webhook)["Attempt"] is webhook_attempts.Attempt
    assert vars(worker.pipeline.webhook)["record_attempt"] is webhook_attempts.record_attempt
    assert vars(worker.pipeline.purge)["write_done"] is purge_status.write_done
    assert vars(jobs.services.rendering)["write_queued"] is purge_status.write_queued


def test_the_api_schema_of_an_attempt_is_the_record() -> None:
    """The OpenAPI model documents the record: same fields, and every record is a valid answer."""
    assert list(WebhookAttempt.model_fields) == [f.name for f in fields(Attempt)]
    for record in (attempt("dlv_a", 1), attempt("dlv_a", 2)):
        assert WebhookAttempt.model_validate(asdict(record)).model_dump() == asdict(record)


async def test_attempts_read_back_newest_first_skipping_foreign_entries(store: ImageStore) -> None:
    redis = store.redis
    await webhook_attempts.record_attempt(redis, "img_1", attempt("dlv_a", 1))
    await redis.lpush(webhook_attempts_key("img_1"), b"not json", b'{"delivery_id": 3}')
    await webhook_attempts.record_attempt(redis, "img_1", attempt("dlv_a", 2))
    assert await webhook_attempts.read_attempts(redis, "img_1") == [
        attempt("dlv_a", 2),
        attempt("dlv_a", 1),
    ]
    assert await webhook_attempts.previous_attempts(redis, "img_1", "dlv_a") == 2
    assert await webhook_attempts.previous_attempts(redis, "img_1", "dlv_b") == 0
    assert await webhook_attempts.read_attempts(redis, "img_2") == []


async def test_a_purge_status_is_queued_then_done_and_only_its_accounts(store: ImageStore) -> None:
    redis = store.redis
    await purge_status.write_queued(redis, "p1", "acme", "account")
    assert await purge_status.read_status(redis, "acme", "p1") == {"state": "queued", "scope": "account"}
    await purge_status.write_done(redis, "p1", "acme", "account", objects=3, urls=2)
    done = await purge_status.read_status(redis, "acme", "p1")
    assert done["state"] == "done" and done["objects"] == 3 and done["urls"] == 2 and "at" in done
    assert "account" not in done
    for account, purge_id in (("globex", "p1"), ("acme", "p2")):
        with pytest.raises(NotFound):
            await purge_status.read_status(redis, account, purge_id)
