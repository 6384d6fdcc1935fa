"""Idempotency-Key: replays answer the same without a second image or job; misuse is a 409."""

from __future__ import annotations

import hashlib
import json

import redis
from fastapi.testclient import TestClient

from jobs.constants import Queue
from jobs.settings import Settings
from tests.jobs.api.conftest import K1, K2
from tests.jobs.api.test_images import jpeg_bytes


def queued(settings: Settings, queue: Queue = Queue.UPLOAD) -> int:
    return int(redis.Redis.from_url(settings.redis_url).llen(f"darkroom:{queue.value}"))


def test_multipart_replay_returns_the_same_image_once(api: TestClient, settings: Settings) -> None:
    headers = K1 | {"Idempotency-Key": "upload-42"}
    first = api.post(
        "/v1/images/upload", headers=headers, files={"file": ("a.jpg", jpeg_bytes())}, data={"name": "a"}
    )
    # a client retry: new multipart boundary, same content
    again = api.post(
        "/v1/images/upload", headers=headers, files={"file": ("a.jpg", jpeg_bytes())}, data={"name": "a"}
    )
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert queued(settings) == 1
    assert len(api.get("/v1/images", headers=K1).json()["data"]) == 1


def test_same_key_different_body_is_409(api: TestClient) -> None:
    headers = K1 | {"Idempotency-Key": "k"}
    assert (
        api.post("/v1/images", headers=headers, json={"url": "https://example.com/a.jpg"}).status_code == 202
    )
    other = api.post("/v1/images", headers=headers, json={"url": "https://example.com/b.jpg"})
    assert other.status_code == 409 and other.json()["error"] == "conflict"
    reordered = api.post("/v1/images", headers=headers, json={"url": "https://example.com/a.jpg"})
    assert reordered.status_code == 202 and reordered.headers["idempotent-replayed"] == "true"


def test_keys_are_scoped_per_account_and_errors_replay_too(api: TestClient, settings: Settings) -> None:
    body = {"url": "https://example.com/a.jpg"}
    a = api.post("/v1/images", headers=K1 | {"Idempotency-Key": "same"}, json=body).json()
    b = api.post("/v1/images", headers=K2 | {"Idempotency-Key": "same"}, json=body).json()
    assert a["id"] != b["id"]  # another account's key space
    bad = {"url": "ftp://nope"}
    first = api.post("/v1/images", headers=K1 | {"Idempotency-Key": "bad"}, json=bad)
    again = api.post("/v1/images", headers=K1 | {"Idempotency-Key": "bad"}, json=bad)
    assert first.status_code == again.status_code == 400 and again.json() == first.json()


def test_a_pending_key_is_a_409_and_bad_keys_are_400(api: TestClient, settings: Settings) -> None:
    r = redis.Redis.from_url(settings.redis_url)

    slot = f"darkroom:idem:acme:{hashlib.sha256(b'busy').hexdigest()[:32]}"
    r.set(slot, json.dumps({"state": "pending", "fingerprint": "x"}))
    busy = api.post(
        "/v1/images", headers=K1 | {"Idempotency-Key": "busy"}, json={"url": "https://e.com/a.jpg"}
    )
    assert busy.status_code == 409
    too_long = api.post(
        "/v1/images", headers=K1 | {"Idempotency-Key": "x" * 300}, json={"url": "https://e.com/a"}
    )
    assert too_long.status_code == 400 and too_long.json()["field"] == "idempotency-key"


def test_without_a_key_every_post_runs(api: TestClient, settings: Settings) -> None:
    for _ in range(2):
        api.post("/v1/images", headers=K1, json={"url": "https://example.com/a.jpg"})
    assert queued(settings) == 2
