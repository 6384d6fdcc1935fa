"""/v1/webhook-secret: each account's own signing secret, shown once on rotation, never by GET."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from jobs.api import create_app
from jobs.contract.settings import Settings
from jobs.services.webhook_secrets import derive, signing_secrets
from jobs.services.webhooks import sign, verify
from tests.support.api import K1, K2

BODY = b'{"type":"image.ready"}'


def secrets_now(settings: Settings, account: str) -> list[str]:
    async def read() -> list[str]:
        redis = Redis.from_url(settings.redis_url)
        try:
            return await signing_secrets(redis, settings, account)
        finally:
            await redis.aclose()

    return asyncio.run(read())


def test_rotation_shows_each_account_its_own_secret_once(api: TestClient, settings: Settings) -> None:
    before = api.get("/v1/webhook-secret", headers=K1)
    assert before.status_code == 200
    assert before.json() == {
        "signing": "account",
        "generation": 0,
        "rotated_at": None,
        "previous_valid_until": None,
    }

    mine = api.post("/v1/webhook-secret/rotate", headers=K1)
    theirs = api.post("/v1/webhook-secret/rotate", headers=K2)
    assert mine.status_code == theirs.status_code == 200
    acme, globex = mine.json()["secret"], theirs.json()["secret"]
    assert acme.startswith("whsec_") and acme != globex
    assert mine.json()["generation"] == 1 and mine.json()["previous_valid_until"] is not None

    after = api.get("/v1/webhook-secret", headers=K1).json()
    assert "secret" not in after and acme not in str(after) and after["generation"] == 1

    # what the worker signs an acme delivery with: the new secret, and the old one during the overlap
    assert secrets_now(settings, "acme") == [acme, derive("test-webhook-secret", "acme", 0)]
    acme_delivery = sign(secrets_now(settings, "acme"), BODY, 1_700_000_000)
    globex_delivery = sign(secrets_now(settings, "globex"), BODY, 1_700_000_000)
    assert verify(acme, acme_delivery, BODY, now=1_700_000_000)
    assert not verify(acme, globex_delivery, BODY, now=1_700_000_000)  # acme cannot verify globex's…
    assert sign(acme, BODY, 1_700_000_000) not in globex_delivery  # …nor sign like them


def test_a_retried_rotation_answers_the_same_secret(api: TestClient) -> None:
    first = api.post("/v1/webhook-secret/rotate", headers=K1 | {"Idempotency-Key": "rotate-1"})
    again = api.post("/v1/webhook-secret/rotate", headers=K1 | {"Idempotency-Key": "rotate-1"})
    assert first.json() == again.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert api.get("/v1/webhook-secret", headers=K1).json()["generation"] == 1


def test_shared_signing_has_nothing_to_rotate(make_settings: Callable[..., Settings]) -> None:
    shared = make_settings(webhook_signing="shared", api_keys={"k1": "acme"})
    with TestClient(create_app(shared), raise_server_exceptions=False) as api:
        assert api.get("/v1/webhook-secret", headers=K1).json()["signing"] == "shared"
        refused = api.post("/v1/webhook-secret/rotate", headers=K1)
        assert (refused.status_code, refused.json()["error"]) == (409, "conflict")
    assert secrets_now(shared, "acme") == ["test-webhook-secret"]


def test_shared_signing_is_refused_with_several_accounts(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SIGNING=shared"):
        make_settings(webhook_signing="shared")  # acme and globex


def test_no_secret_in_the_state_without_a_master(make_settings: Callable[..., Settings]) -> None:
    unset = make_settings(webhook_secret="")
    with TestClient(create_app(unset), raise_server_exceptions=False) as api:
        answer = api.post("/v1/webhook-secret/rotate", headers=K1)
        assert answer.status_code == 500 and "DARKROOM_WEBHOOK_SECRET" in answer.json()["message"]
