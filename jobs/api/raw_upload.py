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

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jobs.api.auth import authenticate
from jobs.api.schemas import FORM_BOOLEAN, OPTIONAL_DATETIME_FIELD
from jobs.intake import UploadOptions
from jobs.models import MAX_NAME_CHARS

RAW_MEDIA_TYPE: Final = "application/octet-stream"


class RawUploadQuery(BaseModel):
    """The upload options of a raw-body upload, as query parameters."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    filename: str | None = Field(default=None, max_length=4096)  # cut to a base name of 255 by intake
    metadata: str | None = None
    publish: bool = False
    expires_at: datetime | None = None
    callback_url: str | None = Field(default=None, max_length=4096)
    caption: str | None = Field(default=None, max_length=2000)


def _text(max_length: int | None, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"} | ({"maxLength": max_length} if max_length else {})
    return {"schema": schema, "description": description}


QUERY_PARAMETERS: Final[dict[str, dict[str, Any]]] = {
    "name": _text(MAX_NAME_CHARS, "Display name (default: the file name without extension)."),
    "filename": _text(4096, "The original file name (its base name is kept, cut to 255 characters)."),
    "metadata": _text(None, "JSON object of your own fields."),
    "publish": {"schema": FORM_BOOLEAN, "description": "Publish when ready."},
    "expires_at": {
        "schema": {k: v for k, v in OPTIONAL_DATETIME_FIELD.items() if k != "description"},
        "description": OPTIONAL_DATETIME_FIELD["description"],
    },
    "callback_url": _text(4096, "http(s) URL that receives the Image on ready or failed."),
    "caption": _text(2000, "Caption (alt text)."),
}


def is_raw_body(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == RAW_MEDIA_TYPE or media.startswith("image/")


def openapi_extra() -> dict[str, Any]:
    """The raw body and its query parameters, next to the multipart form FastAPI documents."""
    parameters = [
        {"name": name, "in": "query", "required": False, "schema": spec["schema"]}
        | {"description": f"{spec['description']} (A form field of the same name wins.)"}
        for name, spec in QUERY_PARAMETERS.items()
    ]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"parameters": parameters, "requestBody": {"content": {RAW_MEDIA_TYPE: binary}}}


def upload_options(request: Request, parse_metadata: Callable[[str | None], dict[str, Any]]) -> UploadOptions:
    # like a form field, an empty value is "not set"; publish has no empty spelling
    raw = {k: v for k, v in request.query_params.items() if v != "" or k == "publish"}
    try:
        query = RawUploadQuery.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    return UploadOptions(
        name=query.name,
        filename=query.filename,
        metadata=parse_metadata(query.metadata),
        publish=query.publish,
        callback_url=query.callback_url,
        expires_at=query.expires_at,
        caption=query.caption,
    )


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
