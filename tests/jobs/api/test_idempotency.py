"""Idempotency-Key: replays answer the same without a second image or job; misuse is a 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import redis
from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.api.idempotency import TTL_S
from jobs.contract.constants import Queue
from jobs.contract.payloads import TransformJob
from jobs.contract.settings import Settings
from tests.jobs.api.test_images import jpeg_bytes, upload
from tests.support.api import K1, K2, process_upload, queued_jobs


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


def idempotency_slot(account: str, key: str) -> str:
    return f"darkroom:idem:{account}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def test_transform_replay_returns_the_same_child_once(api: TestClient, settings: Settings) -> None:
    parent = str(upload(api, name="cat")["id"])
    process_upload(settings, parent)  # a ready parent, made by the real upload pipeline
    assert api.get(f"/v1/images/{parent}", headers=K1).json()["status"] == "ready"
    path, headers = f"/v1/images/{parent}/transform", K1 | {"Idempotency-Key": "thumb-1"}
    body = {"operations": [{"op": "resize", "width": 8}], "metadata": {"a": 1}}

    first = api.post(path, headers=headers, json=body)
    # a client retry: the same JSON, keys in another order
    again = api.post(path, headers=headers, json=dict(reversed(body.items())))
    assert first.status_code == again.status_code == 202, first.text
    child = first.json()
    assert child["parent_id"] == parent and child["id"] != parent and child["status"] == "processing"
    assert again.json() == child and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers

    different = api.post(path, headers=headers, json={"operations": [{"op": "resize", "width": 9}]})
    assert different.status_code == 409 and different.json()["error"] == "conflict"

    jobs = queued_jobs(settings, Queue.TRANSFORM)
    assert [(j.image_id, j.parent_id) for j in jobs if isinstance(j, TransformJob)] == [(child["id"], parent)]
    assert len(jobs) == 1, jobs
    listed = api.get("/v1/images", headers=K1).json()["data"]
    assert sorted(i["id"] for i in listed) == sorted([parent, child["id"]])
    ttl = redis.Redis.from_url(settings.redis_url).ttl(idempotency_slot("acme", "thumb-1"))
    assert TTL_S - 60 < ttl <= TTL_S == 24 * 3600  # the stored answer is kept for 24 h


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

    r.set(idempotency_slot("acme", "busy"), json.dumps({"state": "pending", "fingerprint": "x"}))
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


def test_a_replay_spends_a_rate_limit_token(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_second=0.001, rate_limit_burst=3)
    headers = K1 | {"Idempotency-Key": "once"}
    body = {"url": "https://example.com/a.jpg"}
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        first = api.post("/v1/images", headers=headers, json=body)
        again = api.post("/v1/images", headers=headers, json=body)
        assert first.status_code == again.status_code == 202
        assert again.headers["idempotent-replayed"] == "true"
        assert [first.headers["x-ratelimit-remaining"], again.headers["x-ratelimit-remaining"]] == ["2", "1"]
        assert api.get("/v1/images", headers=K1).status_code == 200  # the last token
        refused = api.post("/v1/images", headers=headers, json=body)  # a replay, but no token left
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert "idempotent-replayed" not in refused.headers and int(refused.headers["retry-after"]) >= 1
