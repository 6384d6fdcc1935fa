"""``POST /v1/images/upload`` with the image itself as the body (no multipart).

``Content-Type: application/octet-stream`` or any ``image/*`` type; the options travel as
query parameters (``name``, ``filename``, ``metadata`` JSON, ``publish``, ``expires_at``,
``callback_url``, ``caption``). It is the same upload as the multipart form, minus the form:
nothing to parse, no spooled temporary file, the bytes go to storage as they arrived. The
Python clients use it; ``curl --data-binary @photo.jpg`` does too.

:class:`RawBodyRoute` routes such a request to :func:`raw_upload` before FastAPI's multipart
machinery sees it; every other content type reaches the multipart handler as before.
Like a form field, an empty query value means "not set".
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, get_args, get_origin

from annotated_types import MaxLen
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from jobs.api.auth import authenticate
from jobs.api.schemas import FORM_BOOLEAN, OPTIONAL_DATETIME_FIELD
from jobs.upload_options import ImageOptions, UploadOptions

RAW_MEDIA_TYPE: Final = "application/octet-stream"


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


def is_raw_body(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == RAW_MEDIA_TYPE or media.startswith("image/")


def openapi_extra() -> dict[str, Any]:
    """The raw body and its query parameters, next to the multipart form FastAPI documents."""
    properties: dict[str, dict[str, Any]] = UploadQuery.model_json_schema()["properties"]
    parameters = [
        {"name": name, "in": "query", "required": False, "schema": _query_schema(prop)}
        | {"description": f"{prop['description']} (A form field of the same name wins.)"}
        for name, prop in properties.items()
    ]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"parameters": parameters, "requestBody": {"content": {RAW_MEDIA_TYPE: binary}}}


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


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RawBodyRoute(APIRoute):
    """A route whose raw-body requests go to ``raw_handler`` (set per route), the rest to FastAPI."""

    raw_handler: Callable[[Request, str], Coroutine[Any, Any, Response]]

    def get_route_handler(self) -> Endpoint:
        form_handler = super().get_route_handler()

        async def dispatch(request: Request) -> Response:
            if not is_raw_body(request.headers.get("content-type", "")):
                return await form_handler(request)
            account = await authenticate(request)
            return await self.raw_handler(request, account)

        return dispatch
