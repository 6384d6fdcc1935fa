"""The upload options as text: query parameters and multipart form fields.

Derived from :mod:`jobs.contract.upload_options` at import, never written out: a text field is optional
and empty means "not set" (so it has no minimum length), ``metadata`` is a JSON object in a
string, ``publish`` takes the form spellings of a boolean. The raw upload's query parameters
(:data:`UploadQuery`, documented by :func:`query_parameters`) carry every upload option; the
multipart form (:data:`UploadForm`) carries those of any image, its file part its own name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args, get_origin

from annotated_types import MaxLen
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from jobs.api.schemas import FORM_BOOLEAN, OPTIONAL_DATETIME_FIELD
from jobs.contract.upload_options import ImageOptions, UploadOptions


def _text_field(field: FieldInfo) -> tuple[Any, Any]:
    """One option as text: JSON for an object, the form spellings of a boolean, an empty
    value for "not set" (so a text field has no minimum length)."""
    description = field.description
    if get_origin(field.annotation) is dict:
        return str | None, Field(default=None, description=description)
    if field.annotation is bool:
        return bool | None, Field(default=None, description=description, json_schema_extra=FORM_BOOLEAN)
    if datetime in get_args(field.annotation):
        return datetime | None, Field(default=None, json_schema_extra=OPTIONAL_DATETIME_FIELD)
    lengths = [m.max_length for m in field.metadata if isinstance(m, MaxLen)]
    return str | None, Field(default=None, description=description, max_length=max(lengths, default=None))


def text_model(model: type[BaseModel], name: str) -> type[BaseModel]:
    """``model``'s fields as query parameters or form fields: every one text and optional."""
    fields = {key: _text_field(field) for key, field in model.model_fields.items()}
    text: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="ignore"), **fields)  # type: ignore[call-overload]
    return text


if TYPE_CHECKING:  # made at import from the options; to mypy, models
    UploadQuery = BaseModel
    UploadForm = BaseModel
else:
    UploadQuery = text_model(UploadOptions, "UploadQuery")
    UploadForm = text_model(ImageOptions, "UploadForm")  # the file part carries its own filename


def query_parameters() -> list[dict[str, Any]]:
    """The OpenAPI query parameters of the upload options."""
    properties: dict[str, dict[str, Any]] = UploadQuery.model_json_schema()["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": _query_schema(prop)}
        | {"description": prop["description"]}
        for name, prop in properties.items()
    ]


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A property of the text model as a query parameter's schema (null is spelled by absence)."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    if schema.get("default", 0) is None:
        del schema["default"]
    branches = schema.get("anyOf", [])
    if len(branches) == 2 and {"type": "null"} in branches:
        del schema["anyOf"]
        schema |= next(b for b in branches if b != {"type": "null"})
    return schema


def _validated(model: type[BaseModel], raw: Mapping[str, Any], where: str) -> BaseModel:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": (where, *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc


def query_options(request: Request) -> dict[str, Any]:
    """The upload options given as query parameters, as text (only those given)."""
    # like a form field, an empty value is "not set"; publish has no empty spelling
    raw = {k: v for k, v in request.query_params.items() if v != "" or k == "publish"}
    return _validated(UploadQuery, raw, "query").model_dump(exclude_unset=True)


def upload_options(
    text: Mapping[str, Any], parse_metadata: Callable[[str | None], dict[str, Any]]
) -> UploadOptions:
    """Options from their text spelling (already validated as text: only metadata is left to parse)."""
    values = dict(text) | {"metadata": parse_metadata(text.get("metadata"))}
    options = _validated(UploadOptions, {k: v for k, v in values.items() if v is not None}, "query")
    assert isinstance(options, UploadOptions)
    return options
