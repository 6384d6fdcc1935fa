"""Request size limits: 413 ``too_large`` before the body is read, not after it is buffered.

* A declared ``Content-Length`` over the route's limit is answered at once; the app is
  never called and not one body byte is read.
* A body of unknown length (``Transfer-Encoding: chunked``) is counted as it streams
  through ``receive``; the moment it crosses the limit the 413 is sent, and the app (which
  was reading) gets :class:`~jobs.contract.errors.TooLarge` from ``receive``. Whatever the app sends
  afterwards is dropped, so the answer is always the 413 error body.

Limits: the multipart upload route gets ``MAX_INPUT_BYTES`` + 64 KiB of multipart
overhead (the 413 states ``MAX_INPUT_BYTES``, the limit the caller set out to meet); every
other route gets ``MAX_JSON_BYTES``. Sizes are printed as people read them (``20 MiB``).
Pure ASGI (no buffering, no Starlette ``BaseHTTPMiddleware``), so streaming uploads stay
streaming.
"""

from __future__ import annotations

import json
from typing import Final, NoReturn

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.contract.errors import DarkroomError, InvalidRequest, TooLarge
from jobs.contract.settings import Settings
from jobs.contract.sizes import human_size

log = structlog.get_logger(__name__)

MULTIPART_OVERHEAD: Final = 64 * 1024
UPLOAD_ROUTES: Final = frozenset({("POST", "/v1/images/upload")})


def body_limits(settings: Settings) -> dict[str, int]:
    """``BodyLimit`` keyword arguments from the settings."""
    return {
        "max_upload_bytes": settings.max_input_bytes + MULTIPART_OVERHEAD,
        "max_json_bytes": settings.max_json_bytes,
    }


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` header; ``None`` if absent; InvalidRequest if not a number."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isascii() or not text.isdigit():
                raise InvalidRequest("Content-Length must be a non-negative integer.", field="Content-Length")
            return int(text)
    return None


async def send_error(send: Send, error: DarkroomError) -> None:
    body = json.dumps(error.to_dict()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"The request body is larger than the {human_size(limit)} limit for this route.")


class BodyLimit:
    """Pure ASGI middleware: 413 for bodies over the route's limit, as early as possible."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_upload_bytes: int,
        max_json_bytes: int,
        upload_routes: frozenset[tuple[str, str]] = UPLOAD_ROUTES,
        upload_overhead: int = 0,
    ) -> None:
        """``upload_overhead``: the part of ``max_upload_bytes`` that is multipart framing around
        the file, left out of the limit a 413 states (the caller's limit is the file's)."""
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.max_json_bytes = max_json_bytes
        self.upload_routes = upload_routes
        self.upload_overhead = upload_overhead

    def limit_for(self, scope: Scope) -> tuple[int, int]:
        """(the bytes allowed, the limit a 413 states) for this request's route."""
        route = (str(scope.get("method", "")).upper(), str(scope.get("path", "")).rstrip("/"))
        if route in self.upload_routes:
            return self.max_upload_bytes, self.max_upload_bytes - self.upload_overhead
        return self.max_json_bytes, self.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, stated = self.limit_for(scope)
        try:
            declared = declared_length(scope)
        except InvalidRequest as exc:
            await send_error(send, exc)
            return
        if declared is not None and declared > limit:
            log.info("http.body_too_large", path=scope.get("path"), limit=limit, declared=declared)
            await send_error(send, too_large(stated))
            return
        await _Guard(self.app, limit, stated).run(scope, receive, send)


class _Guard:
    """One request whose body is counted as it streams (chunked or understated length)."""

    def __init__(self, app: ASGIApp, limit: int, stated: int) -> None:
        self.app = app
        self.limit = limit
        self.stated = stated
        self.received = 0
        self.started = False  # the app began its answer
        self.answered = False  # we sent the 413

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.answered:
                raise too_large(self.stated)
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    await self._cut_off(scope, send)
            return message

        async def guarded_send(message: Message) -> None:
            if self.answered:
                return  # the 413 is the answer; drop the app's reaction to the cut-off body
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception as exc:
            if not self.answered:
                raise
            log.debug("http.body_limit_app_stopped", error_type=type(exc).__name__)

    async def _cut_off(self, scope: Scope, send: Send) -> NoReturn:
        log.info("http.body_too_large", path=scope.get("path"), limit=self.limit, received=self.received)
        if not self.started:
            self.answered = True
            await send_error(send, too_large(self.stated))
        raise too_large(self.stated)
