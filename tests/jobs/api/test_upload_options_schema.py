"""The upload options are defined once (jobs.contract.upload_options); every surface must say the same.

The published /openapi.json is compared with the models field by field: the raw upload's
query parameters, the multipart form fields, the JSON bodies of POST /v1/images and of a
transform; and the Python client must send every option under the name the server reads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args, get_origin

import pytest
from annotated_types import MaxLen, MinLen
from fastapi.testclient import TestClient
from pydantic.fields import FieldInfo

from jobs.api import create_app
from jobs.client import protocol
from jobs.contract.constants import Queue
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.contract.upload_options import ImageOptions, UploadOptions
from tests.jobs.api.test_images import jpeg_bytes
from tests.support.api import K1, queued_jobs


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    response = TestClient(create_app(Settings())).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def lengths(field: FieldInfo) -> dict[str, int]:
    """The model's length limits, as JSON Schema spells them."""
    out = {}
    for rule in field.metadata:
        if isinstance(rule, MaxLen):
            out["maxLength"] = rule.max_length
        if isinstance(rule, MinLen):
            out["minLength"] = rule.min_length
    return out


def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return schema.get("anyOf", [schema])


def documented_lengths(schema: dict[str, Any]) -> dict[str, int]:
    """The limits of the value branch (text fields also document an empty value: "not set")."""
    found = [b for b in branches(schema) if b.get("type") == "string" and b.get("maxLength") != 0]
    return {k: v for b in found for k, v in b.items() if k in ("maxLength", "minLength")}


def types_of(schema: dict[str, Any]) -> set[str]:
    return {f"{b.get('type')}:{b.get('format', '')}" for b in branches(schema)}


def as_json_type(field: FieldInfo) -> str:
    annotation = field.annotation
    if get_origin(annotation) is dict:
        return "object:"
    if annotation is bool:
        return "boolean:"
    if datetime in get_args(annotation):
        return "string:date-time"
    return "string:"


def check_text(name: str, field: FieldInfo, schema: dict[str, Any]) -> None:
    """A query parameter or form field: the option as text; empty means "not set"."""
    expected = {k: v for k, v in lengths(field).items() if k == "maxLength"}
    assert documented_lengths(schema) == expected, name
    json_type = as_json_type(field)
    text = {"object:": "string:", "boolean:": "boolean:"}.get(json_type, json_type)
    assert text in types_of(schema), (name, schema)
    if json_type == "boolean:":  # a form spells a boolean as text too
        assert "string:" in types_of(schema) and schema.get("default") is False, name
    assert field.description and field.description.rstrip(".") in (schema.get("description") or ""), name


def test_raw_upload_query_parameters_are_the_upload_options(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v1/images/upload"]["post"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(parameters) == set(UploadOptions.model_fields)
    for name, field in UploadOptions.model_fields.items():
        parameter = parameters[name]
        assert parameter["required"] is False
        check_text(name, field, parameter["schema"] | {"description": parameter["description"]})


def test_multipart_form_fields_are_the_image_options_and_the_file(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v1/images/upload"]["post"]
    ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == set(ImageOptions.model_fields) | {"file"}
    assert body["required"] == ["file"]
    for name, field in ImageOptions.model_fields.items():
        check_text(name, field, body["properties"][name])


@pytest.mark.parametrize(
    ("path", "extra"), [("/v1/images", "url"), ("/v1/images/{image_id}/transform", "operations")]
)
def test_json_bodies_are_the_image_options(spec: dict[str, Any], path: str, extra: str) -> None:
    ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == set(ImageOptions.model_fields) | {extra}
    assert body["required"] == [extra]
    for name, field in ImageOptions.model_fields.items():
        schema = body["properties"][name]
        assert documented_lengths(schema) == lengths(field), name
        assert as_json_type(field) in types_of(schema), (name, schema)
        default = field.get_default(call_default_factory=True)
        assert schema.get("default", {} if default == {} else None) == default, name


def test_the_client_sends_every_option_as_the_server_reads_it(api: TestClient, settings: Settings) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    options: dict[str, Any] = {
        "name": "n" * 255,
        "filename": "dir/cat.jpg",
        "metadata": {"album": "pets"},
        "publish": True,
        "callback_url": "https://example.com/hook",
        "expires_at": expires,
        "caption": "c" * 2000,
    }
    assert set(options) == set(UploadOptions.model_fields)  # every option, nothing else
    request = protocol.upload_request(jpeg_bytes(), **options)
    response = api.post(
        request.path, params=request.params, content=request.content, headers=request.headers | K1
    )
    assert response.status_code == 202, response.text
    image = response.json()
    assert (image["name"], image["filename"], image["caption"]) == ("n" * 255, "cat.jpg", "c" * 2000)
    assert image["metadata"] == {"album": "pets"}
    assert datetime.fromisoformat(image["expires_at"]) == expires
    job = next(j for j in queued_jobs(settings, Queue.UPLOAD) if j.image_id == image["id"])
    assert isinstance(job, UploadJob)
    assert job.publish is True and job.callback_url == "https://example.com/hook"
    with pytest.raises(TypeError, match="colour"):
        protocol.upload_request(jpeg_bytes(), colour="red")
