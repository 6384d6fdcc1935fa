"""``POST /v1/images/upload`` with the image as the raw body and the options in the query."""

from __future__ import annotations

import io
import json

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from jobs.contract.constants import Queue, original_key
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.jobs.api.test_images import jpeg_bytes
from tests.support.api import K1, K2, process_upload
from tests.support.images import IMAGE_FIELDS

RAW = {"Content-Type": "application/octet-stream"}


def raw_upload(
    api: TestClient, data: bytes, headers: dict[str, str] = K1, **params: str
) -> dict[str, object]:
    response = api.post("/v1/images/upload", headers=headers | RAW, params=params, content=data)
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def test_raw_body_is_staged_and_enqueued_like_the_form(api: TestClient, settings: Settings) -> None:
    body = raw_upload(api, jpeg_bytes(), filename="dir/cat.jpg", metadata=json.dumps({"album": "pets"}))
    assert set(body) == IMAGE_FIELDS and body["status"] == "processing"
    assert body["name"] == "cat" and body["filename"] == "cat.jpg"  # a base name, as with the form
    assert body["metadata"] == {"album": "pets"}
    staged = settings.local_storage_root / original_key(str(body["id"]))
    assert staged.read_bytes() == jpeg_bytes()
    r = redis.Redis.from_url(settings.redis_url)
    message = json.loads(r.hvals(f"darkroom:{Queue.UPLOAD.value}.msgs")[0])
    assert message["args"][0]["image_id"] == body["id"] and message["args"][0]["publish"] is False


def test_raw_upload_becomes_a_ready_image_with_the_bytes_checksum(
    api: TestClient, settings: Settings
) -> None:
    image_id = str(raw_upload(api, jpeg_bytes(), name="red", publish="true")["id"])
    process_upload(settings, image_id)  # the real upload pipeline, in-process
    image = api.get(f"/v1/images/{image_id}", headers=K1).json()
    assert image["status"] == Status.READY and image["name"] == "red"
    assert (image["width"], image["height"]) == (32, 16) and image["public"] is True
    master = api.get(f"/v1/images/{image_id}/download", headers=K1)
    assert master.content[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    "content_type", ["image/jpeg", "image/png; charset=binary", "APPLICATION/OCTET-STREAM"]
)
def test_any_image_type_or_octet_stream_is_a_raw_body(api: TestClient, content_type: str) -> None:
    response = api.post(
        "/v1/images/upload", headers=K1 | {"Content-Type": content_type}, content=jpeg_bytes()
    )
    assert response.status_code == 202, response.text
    body = response.json()  # no name given: {id}.{ext} (docs/design.md §2), the id its stem
    assert body["filename"] == f"{body['id']}.jpg" and body["name"] == body["id"]


def test_raw_upload_needs_the_api_key_and_is_scoped(api: TestClient) -> None:
    for headers in ({}, {"x-api-key": "nope"}, {"Authorization": "Bearer nope"}):
        response = api.post("/v1/images/upload", headers=headers | RAW, content=jpeg_bytes())
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    mine = raw_upload(api, jpeg_bytes(), headers={"Authorization": "Bearer k1"})
    assert api.get(f"/v1/images/{mine['id']}", headers=K2).status_code == 404
    assert api.get(f"/v1/images/{mine['id']}", headers=K1).status_code == 200


@pytest.mark.parametrize(
    ("params", "content", "field"),
    [
        ({}, b"", "file"),
        ({"metadata": "[1]"}, b"x", "metadata"),
        ({"metadata": json.dumps({f"k{i}": 1 for i in range(51)})}, b"x", "metadata"),
        ({"name": "n" * 256}, b"x", "name"),
        ({"publish": "maybe"}, b"x", "publish"),
        ({"publish": ""}, b"x", "publish"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, b"x", "expires_at"),
        ({"expires_at": "soon"}, b"x", "expires_at"),
        ({"callback_url": "ftp://x/y"}, b"x", "callback_url"),
    ],
)
def test_bad_options_are_400_naming_the_field(
    api: TestClient, params: dict[str, str], content: bytes, field: str
) -> None:
    response = api.post("/v1/images/upload", headers=K1 | RAW, params=params, content=content)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and response.json()["field"] == field


def test_empty_query_values_mean_not_set(api: TestClient) -> None:
    body = raw_upload(api, jpeg_bytes(), name="", expires_at="", metadata="", filename="x.jpg")
    assert body["name"] == "x" and body["expires_at"] is None and body["metadata"] == {}


def test_raw_body_over_the_limit_is_413(api: TestClient, settings: Settings) -> None:
    too_big = b"\xff" * (settings.max_input_bytes + 1)
    response = api.post("/v1/images/upload", headers=K1 | RAW, content=too_big)
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_idempotent_replay_of_a_raw_upload(api: TestClient, settings: Settings) -> None:
    headers = K1 | RAW | {"Idempotency-Key": "raw-1"}
    first = api.post("/v1/images/upload", headers=headers, params={"name": "a"}, content=jpeg_bytes())
    again = api.post("/v1/images/upload", headers=headers, params={"name": "a"}, content=jpeg_bytes())
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/v1/images/upload", headers=headers, params={"name": "a"}, content=jpeg_bytes() + b"!")
    assert other.status_code == 409 and other.json()["error"] == "conflict"
    r = redis.Redis.from_url(settings.redis_url)
    assert r.llen(f"darkroom:{Queue.UPLOAD.value}") == 1  # one job for the three requests


def test_a_form_upload_takes_query_options_and_its_fields_win(api: TestClient) -> None:
    response = api.post(
        "/v1/images/upload?name=query&publish=true&metadata=%7B%22a%22%3A1%7D",
        headers=K1,
        files={"file": ("a.jpg", jpeg_bytes())},
        data={"name": "form"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["name"] == "form" and body["metadata"] == {"a": 1}
    bad = api.post("/v1/images/upload?publish=maybe", headers=K1, files={"file": ("a.jpg", jpeg_bytes())})
    assert bad.status_code == 400 and bad.json()["field"] == "publish"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}],
)
def test_a_body_without_an_upload_content_type_says_what_is_wrong(
    api: TestClient, headers: dict[str, str]
) -> None:
    """Not "file: Field required": the answer names the header and both ways to send an image."""
    response = api.post("/v1/images/upload", headers=K1 | headers, content=jpeg_bytes())
    assert "content-type" in response.request.headers or not headers  # {}: no header at all
    assert response.status_code == 415, response.text
    body = response.json()
    assert body["error"] == "unsupported_media_type" and body["field"] == "Content-Type"
    for needed in ("image/*", "application/octet-stream", "multipart/form-data", "'file'"):
        assert needed in body["message"]
    assert "Content-Type" in body["message"]
    unauthenticated = api.post("/v1/images/upload", headers=headers, content=jpeg_bytes())
    assert unauthenticated.status_code == 401  # the key is checked first, as for every upload


def bmp_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 4), "blue").save(out, "BMP")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGBA", (8, 4), (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("data", "ext"), [(jpeg_bytes(), "jpg"), (png_bytes(), "png")], ids=["jpeg", "png"])
def test_without_a_filename_it_is_id_dot_ext_from_the_first_answer(
    api: TestClient, settings: Settings, data: bytes, ext: str
) -> None:
    body = raw_upload(api, data)
    image_id = str(body["id"])
    assert body["filename"] == f"{image_id}.{ext}" and body["name"] == image_id  # the stem
    process_upload(settings, image_id)
    ready = api.get(f"/v1/images/{image_id}", headers=K1).json()
    assert ready["status"] == Status.READY and ready["filename"] == f"{image_id}.{ext}"
    assert ready["name"] == image_id


def test_a_format_known_only_once_decoded_gets_its_extension_when_ready(
    api: TestClient, settings: Settings
) -> None:
    """BMP is stored as JPEG: the API cannot know the extension, the worker sets it."""
    image_id = str(raw_upload(api, bmp_bytes())["id"])
    process_upload(settings, image_id)
    ready = api.get(f"/v1/images/{image_id}", headers=K1).json()
    assert ready["format"] == "jpeg" and ready["filename"] == f"{image_id}.jpg"
