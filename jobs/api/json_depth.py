"""JSON nests at most ``MAX_JSON_DEPTH`` levels: checked in one place, for every JSON body.

Python's ``json`` recurses once per level, so ``[`` × 100 000 (100 kB, well inside
``MAX_JSON_BYTES``) raises ``RecursionError`` — not a ``ValueError``, so every parser of a
body (FastAPI, the idempotency fingerprint) would have to know. :class:`JsonDepthLimit`
(pure ASGI, inside ``BodyLimit``, which bounds what it buffers) reads a JSON body whole when
the app first asks for it and answers 400 ``invalid_request`` if it nests too deep; otherwise
the app receives the same bytes.
:func:`loads` applies the same rule to JSON carried in other fields (the upload's ``metadata``).

No request of this API nests deeply: the deepest is a transform's operation list inside its
body, and metadata values are scalars.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Final, NoReturn

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.api.errors import error_response
from jobs.contract.errors import InvalidRequest

log = structlog.get_logger(__name__)

MAX_JSON_DEPTH: Final = 32


def _containers_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)] if isinstance(value, list | dict) else []
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, list | dict):
                stack.append((child, level + 1))
    return False


def nests_deeper(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` nests deeper than ``limit``.

    Every body this API expects has at most ``limit`` brackets and is done with two C-speed
    counts. The others are parsed (a ``RecursionError`` there means far deeper) and their
    containers walked without recursion, stopping at the first one too deep: about one more
    parse than the app's own, and only for such bodies (a scanner that skips string literals
    in Python was slower on the same worst cases). Text that is not JSON is left to the app's
    parser, which stops where this one did, before any recursion that deep.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    try:
        value = json.loads(data)
    except RecursionError:
        return True
    except ValueError:
        return False
    return _containers_deeper_than(value, limit)


def too_deep(field: str) -> InvalidRequest:
    return InvalidRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.", field=field)


def loads(text: str | bytes, field: str) -> Any:
    """``json.loads`` that fails with InvalidRequest (never RecursionError) on any bad input."""
    data = text.encode() if isinstance(text, str) else text
    if nests_deeper(data):
        raise too_deep(field)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"{field} must be valid JSON.", field=field) from exc


def is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON: no content type, ``application/json`` or ``…+json``."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def has_body(headers: Headers) -> bool:
    length = headers.get("content-length", "").strip()
    return "transfer-encoding" in headers or (length.isdigit() and int(length) > 0)


class JsonDepthLimit:
    """Pure ASGI middleware: 400 for a JSON body nested deeper than ``max_depth``.

    The body is read when the app first asks for it, never before: a request the app answers
    without reading (404, 405, 401 from a route) costs no body read here either.
    """

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        if headers is None or not has_body(headers) or not is_json(headers.get("content-type")):
            await self.app(scope, receive, send)
            return
        await _Checked(self.app, self.max_depth).run(scope, receive, send)


class _Checked:
    """One request whose JSON body is read whole and checked on the app's first ``receive``."""

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth
        self.pending: deque[Message] | None = None  # the messages read, not yet handed on
        self.started = False  # the app began its answer
        self.answered = False  # we sent the 400

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def checked_receive() -> Message:
            if self.answered:
                raise too_deep("body")
            if self.pending is None:
                self.pending = await self._read(receive)
                if nests_deeper(b"".join(m.get("body", b"") for m in self.pending), self.max_depth):
                    await self._refuse(scope, send)
            return self.pending.popleft() if self.pending else await receive()

        async def guarded_send(message: Message) -> None:
            if self.answered:
                return  # the 400 is the answer; drop the app's reaction to the refused body
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, checked_receive, guarded_send)
        except Exception as exc:
            if not self.answered:
                raise
            log.debug("http.json_depth_app_stopped", error_type=type(exc).__name__)

    @staticmethod
    async def _read(receive: Receive) -> deque[Message]:
        messages: deque[Message] = deque()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, send: Send) -> NoReturn:
        log.info("http.json_too_deep", path=scope.get("path"))
        if not self.started:
            self.answered = True
            await error_response(too_deep("body"))(scope, _no_body, send)
        raise too_deep("body")


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
