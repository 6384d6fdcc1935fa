"""Webhook signatures (what a receiver relies on) and the delivery-attempts route."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from jobs.api import create_app
from jobs.api.routes import webhooks as webhook_routes
from jobs.contract.constants import webhook_attempts_key
from jobs.contract.payloads import WebhookJob
from jobs.contract.settings import Settings
from jobs.services.webhooks import build_delivery, delivery_id_for, parse_signature, sign, verify

SECRET = "whsec_test"
BODY = b'{"id":"dlv_1","type":"image.ready","data":{}}'
NOW = 1_718_000_000


def job(**overrides: object) -> WebhookJob:
    values: dict[str, object] = {
        "job_id": "job-1",
        "image_id": "image_" + "a" * 24,
        "account": "acme",
        "url": "https://example.com/hook",
        "event": "image.ready",
        "image": {"id": "image_" + "a" * 24, "status": "ready", "name": "café"},
    }
    values.update(overrides)
    return WebhookJob.model_validate(values)


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, NOW) == f"t={NOW},v1={expected}"


def test_round_trip_verifies() -> None:
    header = sign(SECRET, BODY, NOW)
    assert verify(SECRET, header, BODY, now=NOW)
    assert verify(SECRET, header, BODY, now=NOW + 299)  # within the default 5 min tolerance


def test_tampered_body_and_wrong_secret_fail() -> None:
    header = sign(SECRET, BODY, NOW)
    assert not verify(SECRET, header, BODY + b" ", now=NOW)
    assert not verify(SECRET, header, BODY.replace(b"ready", b"fails"), now=NOW)
    assert not verify("another-secret", header, BODY, now=NOW)
    assert not verify("", header, BODY, now=NOW)


def test_tampered_timestamp_fails() -> None:
    signature = sign(SECRET, BODY, NOW).split(",", 1)[1]
    assert not verify(SECRET, f"t={NOW + 1},{signature}", BODY, now=NOW)


def test_stale_and_future_timestamps_are_rejected() -> None:
    header = sign(SECRET, BODY, NOW)
    assert not verify(SECRET, header, BODY, now=NOW + 301)
    assert not verify(SECRET, header, BODY, now=NOW - 301)  # signed "in the future"
    assert verify(SECRET, header, BODY, now=NOW + 3600, tolerance_s=3600)
    assert not verify(SECRET, sign(SECRET, BODY, 0), BODY)  # against the real clock


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "v1=abc",  # no timestamp
        f"t={NOW}",  # no signature
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t={NOW},t={NOW},v1={'0' * 64}",  # ambiguous timestamp
        f"t={NOW},v1=",
        f"t={NOW},,v1={'0' * 64}",
        f"t=١٢٣,v1={'0' * 64}",  # non-ASCII digits
        f"t={NOW}," + ",".join(["v1=" + "0" * 64] * 100),  # absurdly long
    ],
)
def test_malformed_headers_are_rejected(header: str) -> None:
    assert not verify(SECRET, header, BODY, now=NOW)


def test_unknown_schemes_are_ignored_and_whitespace_tolerated() -> None:
    header = sign(SECRET, BODY, NOW).replace(",", " , v0=deadbeef, ")
    assert parse_signature(header) is not None
    assert verify(SECRET, header, BODY, now=NOW)


def test_rotation_several_v1_values_and_several_secrets() -> None:
    both = sign(["new-secret", SECRET], BODY, NOW)
    assert both.count("v1=") == 2
    assert verify(SECRET, both, BODY, now=NOW)  # a receiver still on the old secret
    assert verify("new-secret", both, BODY, now=NOW)  # a receiver already on the new one
    assert not verify("third", both, BODY, now=NOW)
    assert verify(["third", SECRET], sign(SECRET, BODY, NOW), BODY, now=NOW)  # receiver holds two


def test_sign_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign("", BODY, NOW)


def test_delivery_id_is_stable_per_job_and_differs_between_jobs() -> None:
    assert delivery_id_for(job()) == delivery_id_for(job())
    assert delivery_id_for(job()).startswith("dlv_")
    assert delivery_id_for(job()) != delivery_id_for(job(job_id="job-2"))
    assert delivery_id_for(job()) != delivery_id_for(job(event="image.failed"))


def test_build_delivery_body_headers_and_signature() -> None:
    body, headers = build_delivery(job(), "dlv_x", NOW, secret=SECRET)
    event = json.loads(body)
    assert event == {"id": "dlv_x", "type": "image.ready", "created": NOW, "data": job().image}
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Darkroom-Webhooks/1"
    assert headers["Darkroom-Event"] == "image.ready" and headers["Darkroom-Delivery"] == "dlv_x"
    assert verify(SECRET, headers["Darkroom-Signature"], body, now=NOW)
    assert parse_signature(headers["Darkroom-Signature"]) == (NOW, [headers["Darkroom-Signature"][-64:]])


# --- GET /v1/images/{id}/webhooks (in-process app, real Redis) ----------------------------------------


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/v1/images/{image_id}/webhooks" not in paths:  # until the router is wired into create_app
        app.include_router(webhook_routes.router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def upload(api: TestClient, key: str) -> str:
    buf = io.BytesIO()
    PILImage.new("RGB", (8, 8), "blue").save(buf, "PNG")
    response = api.post(
        "/v1/images/upload", headers={"x-api-key": key}, files={"file": ("a.png", buf.getvalue())}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_attempts_are_listed_newest_first_for_the_owner_only(api: TestClient, settings: Settings) -> None:
    image_id = upload(api, "k1")  # account acme
    assert api.get(f"/v1/images/{image_id}/webhooks", headers={"x-api-key": "k1"}).json() == {"data": []}

    entry = {
        "delivery_id": "dlv_1",
        "event": "image.ready",
        "url": "https://example.com/hook",
        "at": "2024-01-01T00:00:00.000Z",
        "error": None,
        "duration_ms": 12,
    }
    r = redis.Redis.from_url(settings.redis_url)
    r.lpush(
        webhook_attempts_key(image_id),
        json.dumps(entry | {"attempt": 1, "status_code": 500, "delivered": False}),
    )
    r.lpush(webhook_attempts_key(image_id), b"not json")  # never breaks the listing
    r.lpush(
        webhook_attempts_key(image_id),
        json.dumps(entry | {"attempt": 2, "status_code": 200, "delivered": True}),
    )

    response = api.get(f"/v1/images/{image_id}/webhooks", headers={"x-api-key": "k1"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in data] == [
        (2, 200, True),
        (1, 500, False),
    ]
    assert data[0] == entry | {"attempt": 2, "status_code": 200, "delivered": True}

    foreign = api.get(f"/v1/images/{image_id}/webhooks", headers={"x-api-key": "k2"})  # account globex
    assert foreign.status_code == 404 and foreign.json()["error"] == "not_found"
    assert api.get(f"/v1/images/{image_id}/webhooks").status_code == 401
    missing = "image_" + "c" * 24
    assert api.get(f"/v1/images/{missing}/webhooks", headers={"x-api-key": "k1"}).status_code == 404
    assert api.get("/v1/images/nope/webhooks", headers={"x-api-key": "k1"}).status_code == 404
