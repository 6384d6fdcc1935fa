"""/v1/images in-process: auth, validation, the Image shape, scoping. No worker runs here."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import redis
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from jobs.contract.constants import Queue, original_key
from jobs.contract.models import MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS, MAX_NAME_CHARS
from jobs.contract.settings import Settings
from tests.support.api import K1, K2, process_upload
from tests.support.images import IMAGE_FIELDS

PAST = "2001-01-01T00:00:00Z"


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (32, 16), "red").save(buf, "JPEG")
    return buf.getvalue()


def upload(api: TestClient, headers: dict[str, str] = K1, **form: str) -> dict[str, object]:
    response = api.post(
        "/v1/images/upload", headers=headers, files={"file": ("cat.jpg", jpeg_bytes())}, data=form
    )
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def test_upload_answers_202_processing_with_every_field(api: TestClient, settings: Settings) -> None:
    body = upload(api, metadata=json.dumps({"album": "pets"}))
    assert set(body) == IMAGE_FIELDS
    assert body["status"] == "processing" and body["object"] == "image"
    assert body["name"] == "cat" and body["filename"] == "cat.jpg"
    assert body["metadata"] == {"album": "pets"} and body["sizes"] == {} and body["operations"] == []
    assert body["width"] is None and body["url"] is None and body["version"] == 1
    staged = settings.local_storage_root / original_key(str(body["id"]))
    assert staged.read_bytes() == jpeg_bytes()
    r = redis.Redis.from_url(settings.redis_url)
    assert r.llen(f"darkroom:{Queue.UPLOAD.value}") == 1  # one message, ids only
    message = json.loads(r.hvals(f"darkroom:{Queue.UPLOAD.value}.msgs")[0])
    assert message["actor_name"] == "upload" and message["args"][0]["image_id"] == body["id"]
    assert "data" not in message["args"][0] and len(json.dumps(message)) < 1000


def test_auth_missing_wrong_and_bearer(api: TestClient) -> None:
    for headers in ({}, {"x-api-key": "nope"}, {"Authorization": "Bearer nope"}):
        response = api.get("/v1/images", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized" and response.json()["status"] == 401
    assert api.get("/v1/images", headers={"Authorization": "Bearer k1"}).status_code == 200


def test_unknown_and_foreign_ids_are_404(api: TestClient) -> None:
    body = upload(api)
    assert api.get(f"/v1/images/{body['id']}", headers=K1).status_code == 200
    for image_id, headers in ((body["id"], K2), ("image_" + "a" * 24, K1), ("not-an-id", K1)):
        response = api.get(f"/v1/images/{image_id}", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"status": 404, "error": "not_found", "message": response.json()["message"]}
    assert api.get(f"/v1/images/{body['id']}/download", headers=K2).status_code == 404


def test_list_is_scoped_to_the_account(api: TestClient) -> None:
    mine = upload(api)
    upload(api, headers=K2)
    listed = api.get("/v1/images", headers=K1).json()
    assert [i["id"] for i in listed["data"]] == [mine["id"]] and listed["next_cursor"] is None


def test_download_while_processing_is_409(api: TestClient) -> None:
    body = upload(api)
    response = api.get(f"/v1/images/{body['id']}/download", headers=K1)
    assert response.status_code == 409 and response.json()["error"] == "conflict"


def test_validation_errors_name_the_field(api: TestClient) -> None:
    cases = [
        (api.post("/v1/images/upload", headers=K1, files={"file": ("e.jpg", b"")}), "file"),
        (api.post("/v1/images/upload", headers=K1, files={"file": ("a.jpg", b"x")}, data={"metadata": "[1]"}),
         "metadata"),
        (api.post("/v1/images/upload", headers=K1, files={"file": ("a.jpg", b"x")},
                  data={"metadata": json.dumps({f"k{i}": 1 for i in range(51)})}), "metadata"),
        (api.post("/v1/images", headers=K1, json={"url": "ftp://x/y.jpg"}), "url"),
        (api.post("/v1/images", headers=K1, json={"url": "https://x/y.jpg", "bogus": 1}), "bogus"),
        (api.post("/v1/images", headers=K1, json={"url": "https://x/y", "expires_at": PAST}), "expires_at"),
        (api.get("/v1/images?limit=500", headers=K1), "limit"),
        (api.get("/v1/images?sort=size", headers=K1), "sort"),
    ]  # fmt: skip
    for response, field in cases:
        assert response.status_code == 400, (field, response.text)
        body = response.json()
        assert body["error"] == "invalid_request" and body["field"] == field, body


# (the field a 400 names, request fields holding an n-character string where the limit applies, limit)
LENGTH_LIMITS: list[tuple[str, Callable[[int], dict[str, Any]], int]] = [
    ("metadata", lambda n: {"metadata": {"k" * n: "v"}}, 64),
    ("metadata", lambda n: {"metadata": {"k": "v" * n}}, 1024),
    ("name", lambda n: {"name": "n" * n}, 255),
]


def as_form(fields: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in fields.items()}


def test_length_limits_hold_exactly_at_the_boundary(api: TestClient, settings: Settings) -> None:
    """Metadata keys ≤ 64, values ≤ 1024, names ≤ 255 characters: the limit passes, one more is a 400."""
    assert (MAX_METADATA_KEY_CHARS, MAX_METADATA_VALUE_CHARS, MAX_NAME_CHARS) == (64, 1024, 255)
    parent = str(upload(api)["id"])
    process_upload(settings, parent)  # transform needs a ready parent
    senders: dict[str, Callable[[dict[str, Any]], Any]] = {
        "upload": lambda fields: api.post(
            "/v1/images/upload", headers=K1, files={"file": ("a.jpg", jpeg_bytes())}, data=as_form(fields)
        ),
        "url": lambda fields: api.post(
            "/v1/images", headers=K1, json={"url": "https://example.com/a.jpg", **fields}
        ),
        "transform": lambda fields: api.post(
            f"/v1/images/{parent}/transform", headers=K1, json={"operations": [{"op": "grayscale"}], **fields}
        ),
    }
    for field, request, limit in LENGTH_LIMITS:
        for route, send in senders.items():
            at_limit, over = send(request(limit)), send(request(limit + 1))
            assert at_limit.status_code == 202, (route, field, limit, at_limit.text)
            for key, value in request(limit).items():
                assert at_limit.json()[key] == value, (route, key)
            assert over.status_code == 400, (route, field, limit + 1, over.text)
            assert over.json()["error"] == "invalid_request" and over.json()["field"] == field, over.json()


def test_too_large_upload_is_413(api: TestClient, make_settings: object) -> None:
    big = b"\xff\xd8" + b"\0" * (21 * 1024 * 1024)
    response = api.post("/v1/images/upload", headers=K1, files={"file": ("big.jpg", big)})
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_create_from_url_uses_the_url_filename(api: TestClient) -> None:
    response = api.post("/v1/images", headers=K1, json={"url": "https://example.com/a/b/Beach%20Day.png"})
    assert response.status_code == 202
    body = response.json()
    assert (
        body["filename"] == "Beach Day.png" and body["name"] == "Beach Day" and body["status"] == "processing"
    )


def test_long_poll_returns_current_state_when_time_runs_out(api: TestClient) -> None:
    body = upload(api)
    response = api.get(f"/v1/images/{body['id']}?wait=0.3", headers=K1)
    assert response.status_code == 200 and response.json()["status"] == "processing"


def test_unknown_route_and_health(api: TestClient) -> None:
    missing = api.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    health = api.get("/health")
    assert health.status_code == 200 and health.json()["checks"] == {"redis": "ok", "storage": "ok"}
    assert api.get("/health/live").json() == {"status": "ok"}
