"""run_webhook against a real loopback receiver and a real Redis: signing, retries, SSRF, the log."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import Retries

from jobs.contract.constants import WEBHOOK_ATTEMPTS_TTL_S, webhook_attempts_key
from jobs.contract.errors import BrokerUnavailable, DarkroomError, Internal, SourceUnreachable, Unavailable
from jobs.contract.payloads import WebhookJob
from jobs.contract.settings import Settings
from jobs.services.webhook_secrets import derive, rotate
from jobs.services.webhooks import delivery_id_for, parse_signature, verify
from tests.support.pipeline import Answer, Receiver, with_ctx
from tests.support.servers import free_port
from worker.context import WorkerContext
from worker.pipeline.webhook import (
    WEBHOOK_ACTOR_OPTIONS,
    Attempt,
    backoff_range_ms,
    record_attempt,
    run_webhook,
    webhook_backoffs,
)

IMAGE_ID = "image_" + "b" * 24
MASTER = "test-webhook-secret"  # make_settings' webhook_secret
SECRET = derive(MASTER, "acme", 0)  # what acme's deliveries are signed with (never rotated)


def make_job(url: str, **overrides: Any) -> WebhookJob:
    values: dict[str, Any] = {
        "job_id": "job-42",
        "image_id": IMAGE_ID,
        "account": "acme",
        "url": url,
        "event": "image.ready",
        "image": {"id": IMAGE_ID, "object": "image", "status": "ready", "width": 32},
    }
    values.update(overrides)
    return WebhookJob.model_validate(values)


async def deliver(settings: Settings, job: WebhookJob) -> DarkroomError | None:
    """Run one attempt; return the error it raised (None when delivered)."""

    async def body(ctx: WorkerContext) -> DarkroomError | None:
        try:
            await run_webhook(ctx, job)
        except DarkroomError as exc:
            return exc
        return None

    return await with_ctx(settings, body)


def attempts(settings: Settings) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        return [json.loads(item) for item in client.lrange(webhook_attempts_key(IMAGE_ID), 0, -1)]
    finally:
        client.close()


async def test_delivers_a_verifiable_signed_event(settings: Settings, receiver: Receiver) -> None:
    job = make_job(receiver.url())
    assert await deliver(settings, job) is None

    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert verify(SECRET, request.headers["Darkroom-Signature"], request.body)
    assert not verify("wrong", request.headers["Darkroom-Signature"], request.body)
    event = json.loads(request.body)
    assert event["type"] == "image.ready" and event["data"] == job.image
    assert event["id"] == request.headers["Darkroom-Delivery"] == delivery_id_for(job)
    assert request.headers["Darkroom-Event"] == "image.ready"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Darkroom-Webhooks/1"

    [entry] = attempts(settings)
    assert entry["delivered"] is True and entry["status_code"] == 200 and entry["error"] is None
    assert entry["attempt"] == 1 and entry["delivery_id"] == event["id"]
    assert entry["url"] == receiver.url() and entry["event"] == "image.ready"
    assert entry["at"].endswith("Z") and entry["duration_ms"] >= 0
    ttl = redis.Redis.from_url(settings.redis_url).ttl(webhook_attempts_key(IMAGE_ID))
    assert 0 < ttl <= WEBHOOK_ATTEMPTS_TTL_S


async def test_500_is_transient_and_recorded_then_a_retry_delivers_with_the_same_id(
    settings: Settings, receiver: Receiver
) -> None:
    receiver.answer(Answer(500), Answer(200))
    job = make_job(receiver.url())

    error = await deliver(settings, job)
    assert isinstance(error, Unavailable) and error.transient and "HTTP 500" in error.message
    [failed] = attempts(settings)
    assert failed["delivered"] is False and failed["status_code"] == 500 and failed["attempt"] == 1

    assert await deliver(settings, job) is None  # what Dramatiq's redelivery does
    newest, oldest = attempts(settings)
    assert newest["delivered"] is True and newest["status_code"] == 200 and newest["attempt"] == 2
    assert oldest == failed

    first, second = receiver.requests
    ids = {first.headers["Darkroom-Delivery"], second.headers["Darkroom-Delivery"]}
    assert ids == {json.loads(first.body)["id"], json.loads(second.body)["id"]} == {delivery_id_for(job)}
    for request in (first, second):
        assert verify(SECRET, request.headers["Darkroom-Signature"], request.body)


async def test_attempts_of_another_delivery_do_not_count(settings: Settings, receiver: Receiver) -> None:
    assert await deliver(settings, make_job(receiver.url(), job_id="job-1")) is None
    assert await deliver(settings, make_job(receiver.url(), job_id="job-2")) is None
    assert [a["attempt"] for a in attempts(settings)] == [1, 1]


async def test_a_redirect_is_a_failure_and_is_not_followed(settings: Settings, receiver: Receiver) -> None:
    receiver.answer(Answer(302, {"Location": receiver.url("/elsewhere")}))
    error = await deliver(settings, make_job(receiver.url()))
    assert isinstance(error, Unavailable) and error.transient
    assert [r.path for r in receiver.requests] == ["/hook"]
    [entry] = attempts(settings)
    assert entry["status_code"] == 302 and entry["delivered"] is False


async def test_a_private_address_is_refused_permanently_and_nothing_is_sent(
    make_settings: Callable[..., Settings], receiver: Receiver
) -> None:
    settings = make_settings(allow_private_sources=False)
    error = await deliver(settings, make_job(receiver.url()))
    assert isinstance(error, SourceUnreachable) and not error.transient
    assert receiver.requests == []
    [entry] = attempts(settings)
    assert entry["delivered"] is False and entry["status_code"] is None
    assert "non-public" in entry["error"]


async def test_a_slow_receiver_times_out_transiently(
    make_settings: Callable[..., Settings], receiver: Receiver
) -> None:
    settings = make_settings(webhook_timeout=0.3)
    receiver.answer(Answer(200, delay_s=3.0))
    error = await deliver(settings, make_job(receiver.url()))
    assert isinstance(error, Unavailable) and error.transient
    [entry] = attempts(settings)
    assert entry["status_code"] is None and "timed out" in entry["error"]
    assert entry["duration_ms"] < 2500  # the attempt did not wait for the slow answer


async def test_connection_refused_is_transient(settings: Settings) -> None:
    error = await deliver(settings, make_job(f"http://127.0.0.1:{free_port()}/hook"))
    assert isinstance(error, Unavailable) and error.transient
    [entry] = attempts(settings)
    assert entry["status_code"] is None and "ConnectError" in entry["error"]


async def test_without_a_secret_nothing_is_sent_unsigned(
    make_settings: Callable[..., Settings], receiver: Receiver
) -> None:
    error = await deliver(make_settings(webhook_secret=""), make_job(receiver.url()))
    assert isinstance(error, Internal) and not error.transient
    assert receiver.requests == []


async def test_redis_down_is_transient_and_nothing_is_sent(
    make_settings: Callable[..., Settings], receiver: Receiver
) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    error = await deliver(settings, make_job(receiver.url()))
    assert isinstance(error, BrokerUnavailable) and error.transient
    assert receiver.requests == []


async def test_the_attempt_log_keeps_the_newest_100(settings: Settings, receiver: Receiver) -> None:
    async def fill(ctx: WorkerContext) -> None:
        for n in range(120):
            old = Attempt(
                "dlv_old", "image.ready", "http://x", n + 1, "2024-01-01T00:00:00Z", 500, None, 1, False
            )
            await record_attempt(ctx.redis, IMAGE_ID, old)

    await with_ctx(settings, fill)
    assert await deliver(settings, make_job(receiver.url())) is None
    log = attempts(settings)
    assert len(log) == 100
    assert log[0]["delivered"] is True and log[0]["attempt"] == 1
    assert log[1]["attempt"] == 120 and log[-1]["attempt"] == 22


# --- retry schedule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [24.0, 1.0, 72.0, 0.001])
def test_expected_backoffs_cover_the_retry_window(
    make_settings: Callable[..., Settings], hours: float
) -> None:
    settings = make_settings(webhook_retry_hours=hours)
    options = WEBHOOK_ACTOR_OPTIONS(settings)
    window_ms = hours * 3_600_000
    ranges = [
        backoff_range_ms(n, options["min_backoff"], options["max_backoff"])
        for n in range(options["max_retries"])
    ]
    expected = sum(r[1] for r in ranges)
    assert window_ms <= expected <= 1.3 * window_ms
    assert expected - ranges[-1][1] < window_ms  # the smallest number of retries that covers it
    assert options["max_backoff"] <= 7 * 86_400_000 and options["min_backoff"] <= options["max_backoff"]


def test_default_schedule_is_the_documented_one(settings: Settings) -> None:
    assert webhook_backoffs(settings) == (60_000, 6 * 3_600_000, 12)


def test_backoff_ranges_mirror_dramatiq_compute_backoff() -> None:
    min_backoff, max_backoff = 60_000, 6 * 3_600_000
    for retries in range(14):
        low, expected, high = backoff_range_ms(retries, min_backoff, max_backoff)
        samples = [
            compute_backoff(retries, factor=min_backoff, max_backoff=max_backoff)[1] for _ in range(2000)
        ]
        assert low - 1 <= min(samples) and max(samples) <= high
        assert statistics.fmean(samples) == pytest.approx(expected, rel=0.05)


def test_retry_when_retries_transient_errors_only_up_to_the_webhook_budget(settings: Settings) -> None:
    options = WEBHOOK_ACTOR_OPTIONS(settings)
    retry_when = options["retry_when"]
    assert retry_when(0, Unavailable()) and retry_when(options["max_retries"] - 1, Unavailable())
    assert not retry_when(options["max_retries"], Unavailable())
    assert not retry_when(0, SourceUnreachable())  # permanent: refused URL
    # Dramatiq accepts these options on an actor of a broker with the Retries middleware
    broker = StubBroker(middleware=[Retries()])
    actor = dramatiq.actor(broker=broker, actor_name="webhook", queue_name="darkroom.webhooks", **options)(
        lambda payload: None
    )
    assert actor.options["max_retries"] == options["max_retries"]
    broker.close()


async def test_each_account_signs_with_its_own_secret(
    make_settings: Callable[..., Settings], settings: Settings, receiver: Receiver
) -> None:
    """A tenant that verifies its own deliveries holds nothing that verifies (or forges) another's."""
    for account in ("acme", "globex"):
        assert (
            await deliver(settings, make_job(receiver.url(), account=account, job_id=f"job-{account}"))
            is None
        )
    signed = {
        account: (request.headers["Darkroom-Signature"], request.body)
        for account, request in zip(("acme", "globex"), receiver.requests, strict=True)
    }
    for account, (header, body) in signed.items():
        other = "globex" if account == "acme" else "acme"
        assert verify(derive(MASTER, account, 0), header, body)
        assert not verify(derive(MASTER, other, 0), header, body)
        assert not verify(MASTER, header, body)  # the deployment's secret is never a tenant's

    shared = make_settings(webhook_signing="shared", api_keys={"k1": "acme"})
    assert await deliver(shared, make_job(receiver.url(), job_id="job-shared")) is None
    assert verify(MASTER, receiver.requests[-1].headers["Darkroom-Signature"], receiver.requests[-1].body)


async def test_a_rotation_signs_with_both_secrets_during_the_overlap(
    make_settings: Callable[..., Settings], settings: Settings, receiver: Receiver
) -> None:
    async def rotated(ctx: WorkerContext) -> str:
        return (await rotate(ctx.redis, ctx.settings, "acme"))[0]

    new = await with_ctx(settings, rotated)
    assert new != SECRET and new.startswith("whsec_")
    assert await deliver(settings, make_job(receiver.url(), job_id="job-1")) is None
    header, body = receiver.requests[-1].headers["Darkroom-Signature"], receiver.requests[-1].body
    parsed = parse_signature(header)
    assert parsed is not None and len(parsed[1]) == 2  # t=…,v1=new,v1=old
    assert verify(new, header, body) and verify(SECRET, header, body)

    no_overlap = make_settings(webhook_secret_overlap_hours=0)
    newer = await with_ctx(no_overlap, rotated)
    assert await deliver(no_overlap, make_job(receiver.url(), job_id="job-2")) is None
    header, body = receiver.requests[-1].headers["Darkroom-Signature"], receiver.requests[-1].body
    assert verify(newer, header, body) and not verify(new, header, body) and not verify(SECRET, header, body)
