"""``Idempotency-Key`` on every POST: same key + same request → the same answer for 24 h.

A route class wraps every POST handler. The first request with a key claims
``darkroom:idem:{account}:{key}`` (``SET NX``, :mod:`jobs.plumbing.store.idempotency` through the
producer), runs, and stores its answer; a replay with
the same request gets that answer back (``Idempotent-Replayed: true``) without running
again — so no second image, no second job. The same key with a different request, or
while the first is still running, is a 409. Server-side failures (5xx, 429) release the
key so the client can retry with it.

The request fingerprint is semantic: JSON bodies are compared canonically, multipart
uploads by their fields and the SHA-256 of each file (boundaries differ between retries).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from jobs.api.auth import authenticate
from jobs.api.context import get_ctx
from jobs.api.errors import error_response
from jobs.contract.errors import Conflict, InvalidRequest
from jobs.plumbing.store.idempotency import PENDING_TTL_S, TTL_S, slot_key

__all__ = ["PENDING_TTL_S", "TTL_S", "IdempotentRoute", "body_sha256", "fingerprint"]

log = structlog.get_logger(__name__)

HEADER = "idempotency-key"
MAX_KEY_CHARS = 255
REPLAYED_HEADERS = ("content-type", "etag", "location")


async def fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{request.url.query}\n".encode())
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()  # cached on the request: the handler reads the same form
        for name, value in sorted(form.multi_items(), key=lambda item: item[0]):
            if isinstance(value, UploadFile):
                data = await value.read()
                await value.seek(0)
                digest.update(f"{name}=file:{value.filename}:{hashlib.sha256(data).hexdigest()}\n".encode())
            else:
                digest.update(f"{name}={value}\n".encode())
    elif content_type.split(";", 1)[0].strip().lower() in ("", "application/json"):
        body = await request.body()
        try:
            digest.update(json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode())
        except (ValueError, RecursionError):  # too deep is refused by JsonDepthLimit first
            digest.update(body)
    else:  # a raw body (an image): its hash, which the upload reuses as the original's checksum
        digest.update(f"{content_type}\n{await body_sha256(request)}".encode())
    return digest.hexdigest()


async def body_sha256(request: Request) -> str:
    """The hex SHA-256 of the request body, computed once per request."""
    cached: str | None = getattr(request.state, "body_sha256", None)
    if cached is None:
        cached = request.state.body_sha256 = hashlib.sha256(await request.body()).hexdigest()
    return cached


def _stored(response: Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
    body = bytes(response.body).decode("utf-8", errors="replace")
    return {"state": "done", "status": response.status_code, "headers": headers, "body": body}


class IdempotentRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def idempotent(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if key is None or request.method != "POST":
                return await handler(request)
            # a replay is a request like any other: admitted and rate limited before it is answered
            account = await authenticate(request)
            try:
                return await _run(request, handler, account, key)
            except (Conflict, InvalidRequest) as exc:
                return error_response(exc)

        return idempotent


async def _run(
    request: Request, handler: Callable[[Request], Awaitable[Response]], account: str, key: str
) -> Response:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1..{MAX_KEY_CHARS} printable characters.", field=HEADER
        )
    slots = get_ctx(request).idempotency
    slot = slot_key(account, key)
    print_ = await fingerprint(request)
    existing = await slots.claim(slot, print_)
    if existing is not None:
        return _replay(existing, print_)
    try:
        response = await handler(request)
    except BaseException:
        await slots.release(slot)
        raise
    if response.status_code >= 500 or response.status_code == 429:
        await slots.release(slot)  # nothing happened that a retry would duplicate
    else:
        await slots.keep(slot, _stored(response) | {"fingerprint": print_})
    return response


def _replay(saved: dict[str, Any], print_: str) -> Response:
    if saved.get("fingerprint") != print_:
        raise Conflict("This Idempotency-Key was used with a different request.")
    if saved.get("state") != "done":
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.")
    headers = dict(saved.get("headers", {})) | {"Idempotent-Replayed": "true"}
    log.info("http.idempotent_replay", status=saved["status"])
    return Response(saved["body"].encode(), status_code=int(saved["status"]), headers=headers)
