"""The OpenAPI document, made to say exactly what the server does.

FastAPI documents a 422 ``HTTPValidationError`` we never send (validation errors are our
400 ``invalid_request``), and knows nothing of the errors middleware can answer on any route
(413 body limit, 429 rate limit, 503 Redis/storage down, 500). This module rewrites the
generated document once: every operation lists the error codes it can return with the
``ErrorBody`` schema, and every component schema carries an example.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
ERROR_DESCRIPTIONS = {
    "400": "Invalid request (`invalid_request`, with the `field` at fault).",
    "401": "Missing or invalid API key (`unauthorized`).",
    "403": "Forbidden (`forbidden`, `media_blocked`).",
    "404": "Not found, or not yours (`not_found`).",
    "409": "Conflicting state or Idempotency-Key reuse (`conflict`).",
    "413": "Body or file too large (`too_large`).",
    "422": "The image failed (`media_failed`).",
    "429": "Rate limited (`rate_limited`, see `Retry-After`).",
    "500": "Internal error (`internal`).",
    "503": "Redis or storage unavailable, or still rendering (`unavailable`).",
}
EVERYWHERE = ("400", "413", "500", "503")  # body limits, malformed requests, outages
AUTHENTICATED = ("401", "404", "409", "422", "429")
PUBLIC_ERRORS = {"/render/{rest}": ("403", "404", "409", "422"), "/files/{path}": ("404",)}

UPLOAD_FORM_EXAMPLE = {
    "file": "(binary)",
    "name": "hero",
    "metadata": '{"album": "launch"}',
    "publish": False,
}
EXAMPLES: dict[str, Any] = {
    "Status": "ready",
    "HealthBody": {"status": "ok", "checks": {"redis": "ok", "storage": "ok"}},
}


def _error_response(code: str, existing: dict[str, Any]) -> dict[str, Any]:
    """Our error body (or the specific model a route declared, e.g. the failed Image)."""
    schema = existing.get("content", {}).get("application/json", {}).get("schema", {})
    if not schema or schema.get("$ref", "").endswith("/HTTPValidationError"):
        return {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    default = schema == ERROR_REF or not existing.get("description")
    description = ERROR_DESCRIPTIONS[code] if default else existing["description"]
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _is_default_422(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _codes_for(path: str, operation: dict[str, Any]) -> tuple[str, ...]:
    if path in PUBLIC_ERRORS:
        return EVERYWHERE + PUBLIC_ERRORS[path]
    if operation.get("security") or path.startswith("/v1/"):
        return EVERYWHERE + AUTHENTICATED
    return ("500", "503") if path.startswith("/health") else EVERYWHERE


def _examples(schemas: dict[str, Any]) -> None:
    for name, schema in schemas.items():
        if name in EXAMPLES:
            schema["examples"] = [EXAMPLES[name]]
        elif name.startswith("Body_upload"):
            schema["examples"] = [UPLOAD_FORM_EXAMPLE]
        elif "examples" not in schema and "example" not in schema:
            example = {
                prop: (spec.get("examples") or [spec.get("default")])[0]
                for prop, spec in schema.get("properties", {}).items()
                if spec.get("examples") or "default" in spec
            }
            schema["examples"] = [example]


def _flatten_form_bodies(spec: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A multipart body FastAPI makes of a form model and a file (``allOf`` the model plus the
    file) becomes one object, so the reference lists every form field in one table."""
    inlined: set[str] = set()
    for schema in schemas.values():
        refs = [part.get("$ref", "") for part in schema.get("allOf", [])]
        if not refs or not all(refs):
            continue
        del schema["allOf"]
        names = [ref.rsplit("/", 1)[1] for ref in refs]
        inlined.update(names)
        parts = [schemas[name] for name in names]
        schema["properties"] = schema.get("properties", {}) | {
            k: v for part in parts for k, v in part.get("properties", {}).items()
        }
        required = [r for part in [schema, *parts] for r in part.get("required", [])]
        schema["required"] = list(dict.fromkeys(required))
    text = json.dumps(spec)
    for name in inlined:
        if f'"#/components/schemas/{name}"' not in text:  # used nowhere else
            del schemas[name]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            codes = _codes_for(path, operation)
            if "422" not in codes and _is_default_422(responses.get("422")):
                responses.pop("422")  # FastAPI's automatic one: never sent here
            for code in codes:
                responses.setdefault(code, {})
            for code in list(responses):
                if code in ERROR_DESCRIPTIONS:
                    responses[code] = _error_response(code, responses[code])
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    _flatten_form_bodies(spec, schemas)
    _examples(schemas)
    app.openapi_schema = spec
    return spec


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
