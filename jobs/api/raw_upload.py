"""``POST /v1/images/upload`` with the image itself as the body (no multipart).

``Content-Type: application/octet-stream`` or any ``image/*`` type; the options travel as
query parameters (``name``, ``filename``, ``metadata`` JSON, ``publish``, ``expires_at``,
``callback_url``, ``caption``). It is the same upload as the multipart form, minus the form:
nothing to parse, no spooled temporary file, the bytes go to storage as they arrived. The
Python clients use it; ``curl --data-binary @photo.jpg`` does too.

:class:`RawBodyRoute` routes such a request to :func:`raw_upload` before FastAPI's multipart
machinery sees it; ``multipart/form-data`` reaches the multipart handler. Anything else (no
``Content-Type`` at all, or curl's default ``application/x-www-form-urlencoded`` for
``--data-binary``) is a 415 that says which types work: the form handler would only have
answered "file: Field required", which names neither the header nor the fix.
Like a form field, an empty query value means "not set".
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import Request, Response
from fastapi.routing import APIRoute

from jobs.api.auth import authenticate
from jobs.api.upload_text import query_parameters
from jobs.contract.errors import UnsupportedMediaType

RAW_MEDIA_TYPE: Final = "application/octet-stream"
FORM_MEDIA_TYPE: Final = "multipart/form-data"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_raw_body(content_type: str) -> bool:
    media = media_type(content_type)
    return media == RAW_MEDIA_TYPE or media.startswith("image/")


def unsupported_body(content_type: str) -> UnsupportedMediaType:
    """What is wrong with an upload that is neither a raw body nor a multipart form."""
    got = f"Content-Type {media_type(content_type)!r}" if content_type.strip() else "no Content-Type"
    hint = (
        " (curl --data-binary sends application/x-www-form-urlencoded unless told otherwise)"
        if media_type(content_type) == "application/x-www-form-urlencoded"
        else ""
    )
    return UnsupportedMediaType(
        f"The upload has {got}{hint}. Send the image as the raw body with "
        f"'Content-Type: image/*' or '{RAW_MEDIA_TYPE}', or as a {FORM_MEDIA_TYPE} form "
        "with the image in the 'file' field.",
        field="Content-Type",
    )


def openapi_extra() -> dict[str, Any]:
    """The raw body and its query parameters, next to the multipart form FastAPI documents."""
    parameters = [
        parameter | {"description": f"{parameter['description']} (A form field of the same name wins.)"}
        for parameter in query_parameters()
    ]
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"parameters": parameters, "requestBody": {"content": {RAW_MEDIA_TYPE: binary}}}


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RawBodyRoute(APIRoute):
    """A route whose raw-body requests go to ``raw_handler`` (set per route), the rest to FastAPI."""

    raw_handler: Callable[[Request, str], Coroutine[Any, Any, Response]]

    def get_route_handler(self) -> Endpoint:
        form_handler = super().get_route_handler()

        async def dispatch(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if media_type(content_type) == FORM_MEDIA_TYPE:
                return await form_handler(request)
            account = await authenticate(request)  # 401 before anything about the body
            if not is_raw_body(content_type):
                raise unsupported_body(content_type)
            return await self.raw_handler(request, account)

        return dispatch
