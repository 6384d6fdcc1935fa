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
from typing import Any, Final

from fastapi import Request, Response
from fastapi.routing import APIRoute

from jobs.api.auth import authenticate
from jobs.api.upload_text import query_parameters

RAW_MEDIA_TYPE: Final = "application/octet-stream"


def is_raw_body(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == RAW_MEDIA_TYPE or media.startswith("image/")


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
            if not is_raw_body(request.headers.get("content-type", "")):
                return await form_handler(request)
            account = await authenticate(request)
            return await self.raw_handler(request, account)

        return dispatch
