"""BodyLimit: 413 before the body is read (declared length) or as soon as it crosses the limit.

In-process (TestClient, bare ASGI calls) for the rules; a real uvicorn server on a free
port for the promptness: the 413 arrives while the client is still sending.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.api.body_limit import MULTIPART_OVERHEAD, BodyLimit, body_limits, declared_length
from jobs.api.errors import install_error_handlers
from jobs.contract.errors import InvalidRequest, TooLarge
from jobs.contract.settings import Settings

UPLOAD_LIMIT = 64 * 1024
JSON_LIMIT = 1024


@dataclass
class Seen:
    calls: int = 0
    bytes: int = 0


class Thing(BaseModel):
    name: str


def make_app(seen: Seen) -> FastAPI:
    """Like the real app: error handlers, BodyLimit added as middleware, an upload and a JSON route."""
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_upload_bytes=UPLOAD_LIMIT, max_json_bytes=JSON_LIMIT)

    @app.post("/v1/images/upload")
    async def upload(request: Request) -> dict[str, int]:
        seen.calls += 1
        async for chunk in request.stream():
            seen.bytes += len(chunk)
        return {"received": seen.bytes}

    @app.post("/v1/things")
    async def things(thing: Thing) -> dict[str, int]:
        seen.calls += 1
        return {"length": len(thing.name)}

    return app


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def api(seen: Seen) -> Iterator[TestClient]:
    with TestClient(make_app(seen), raise_server_exceptions=False) as client:
        yield client


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["status"] == 413 and body["error"] == "too_large" and "limit" in body["message"]


# --- the rules (in-process) -------------------------------------------------------------------------


def test_bodies_within_the_limits_pass(api: TestClient, seen: Seen) -> None:
    assert api.post("/v1/things", json={"name": "x" * 500}).json() == {"length": 500}
    assert api.post("/v1/images/upload", content=b"x" * UPLOAD_LIMIT).json() == {"received": UPLOAD_LIMIT}
    assert seen.calls == 2


def test_a_declared_length_over_the_limit_is_refused_without_calling_the_app(
    api: TestClient, seen: Seen
) -> None:
    assert_too_large(api.post("/v1/things", json={"name": "x" * JSON_LIMIT}))
    assert_too_large(api.post("/v1/images/upload", content=b"x" * (UPLOAD_LIMIT + 1)))
    assert seen.calls == 0


def test_only_the_upload_route_gets_the_upload_limit(api: TestClient, seen: Seen) -> None:
    payload = b"x" * (4 * JSON_LIMIT)
    assert api.post("/v1/images/upload", content=payload).status_code == 200
    assert_too_large(api.post("/v1/things", content=payload, headers={"content-type": "application/json"}))
    assert_too_large(api.put("/v1/images/upload", content=payload))  # another method: JSON limit


def test_a_chunked_body_is_cut_off_at_the_limit(api: TestClient, seen: Seen) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 700

    assert_too_large(api.post("/v1/things", content=chunks(), headers={"content-type": "application/json"}))
    assert_too_large(api.post("/v1/images/upload", content=(b"y" * 30_000 for _ in range(5))))
    assert seen.bytes <= UPLOAD_LIMIT


def test_limits_from_settings() -> None:
    settings = Settings(max_input_bytes=1000, max_json_bytes=10)
    assert body_limits(settings) == {"max_upload_bytes": 1000 + MULTIPART_OVERHEAD, "max_json_bytes": 10}
    assert MULTIPART_OVERHEAD == 64 * 1024


def test_declared_length_parsing() -> None:
    assert declared_length({"headers": [(b"content-length", b"42")]}) == 42
    assert declared_length({"headers": [(b"host", b"x")]}) is None
    for bad in (b"-1", b"abc", b"1e3", b""):
        with pytest.raises(InvalidRequest):
            declared_length({"headers": [(b"content-length", bad)]})


# --- bare ASGI: exactly how much is read, what is sent ------------------------------------------------


def http_scope(path: str = "/v1/things", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": headers or []}


def run_asgi(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[list[Message], BaseException | None]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> BaseException | None:
        try:
            await BodyLimit(app, max_upload_bytes=UPLOAD_LIMIT, max_json_bytes=JSON_LIMIT)(
                scope, receive, send
            )
        except Exception as exc:
            return exc
        return None

    return sent, anyio.run(main)


def endless_body(counter: list[int], size: int = 600) -> Callable[[], Awaitable[Message]]:
    async def receive() -> Message:
        counter[0] += 1
        return {"type": "http.request", "body": b"x" * size, "more_body": True}

    return receive


def test_an_endless_body_stops_being_read_once_over_the_limit() -> None:
    reads = [0]
    app_errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except TooLarge as exc:
            app_errors.append(exc)
            await send({"type": "http.response.start", "status": 400, "headers": []})  # dropped
            await send({"type": "http.response.body", "body": b"app says no"})
            raise

    sent, error = run_asgi(app, http_scope(), endless_body(reads))
    assert reads[0] == 2  # 1200 bytes > 1024: nothing more was pulled from the client
    assert error is None and len(app_errors) == 1
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["error"] == "too_large"
    assert (b"content-type", b"application/json") in sent[0]["headers"]


def test_an_invalid_content_length_is_a_400_and_the_app_is_not_called() -> None:
    called = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    sent, error = run_asgi(app, http_scope(headers=[(b"content-length", b"lots")]), endless_body([0]))
    assert error is None and called == []
    assert sent[0]["status"] == 400 and json.loads(sent[1]["body"])["error"] == "invalid_request"


def test_a_response_already_under_way_is_not_replaced() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass

    sent, error = run_asgi(app, http_scope(), endless_body([0]))
    assert isinstance(error, TooLarge)  # the app sees it; no second response start is sent
    assert [m.get("status") for m in sent] == [200]


def test_other_scopes_pass_through() -> None:
    seen_scopes: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen_scopes.append(scope["type"])

    run_asgi(app, {"type": "lifespan"}, endless_body([0]))
    assert seen_scopes == ["lifespan"]


# --- a real server: the 413 is prompt and the rest of the body is never read by the app ----------------


class Observe:
    """Outermost wrapper: notes when a 413 leaves the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answered = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                self.answered.set()
            await send(message)

        await self.app(scope, receive, watch)


@contextmanager
def serve(app: ASGIApp, lifespan: Literal["on", "off"] = "off") -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of one HTTP/1.1 answer with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(body)


def test_declared_too_large_is_answered_before_any_body_is_sent(seen: Seen) -> None:
    with serve(make_app(seen)) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/images/upload HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 1000000000\r\n\r\n"
        )
        status, body = read_response(sock)  # not one body byte was sent
    assert status == 413 and body["error"] == "too_large"
    assert seen.calls == 0


def test_chunked_upload_is_answered_mid_stream(seen: Seen) -> None:
    with serve(make_app(seen)) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /v1/images/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 16_384
        for _ in range(UPLOAD_LIMIT // len(chunk) + 1):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, body = read_response(sock)  # the body is unfinished: no terminating 0-chunk sent
    assert status == 413 and body["error"] == "too_large"
    assert seen.calls == 1 and seen.bytes <= UPLOAD_LIMIT


def test_streaming_client_gets_the_413_while_still_sending(seen: Seen) -> None:
    observed = Observe(make_app(seen))
    chunk, total_chunks = b"z" * 16_384, 256  # 4 MiB offered, 64 KiB allowed
    sent = 0
    sent_when_answered: int | None = None

    def body() -> Iterator[bytes]:
        nonlocal sent, sent_when_answered
        for _ in range(total_chunks):
            yield chunk
            sent += 1
            over = sent * len(chunk) > UPLOAD_LIMIT
            if over and sent_when_answered is None and observed.answered.wait(5):
                sent_when_answered = sent

    with serve(observed) as port:
        response = httpx.post(f"http://127.0.0.1:{port}/v1/images/upload", content=body(), timeout=10)
    assert_too_large(response)
    assert sent_when_answered is not None and sent_when_answered <= UPLOAD_LIMIT // len(chunk) + 2
    assert seen.bytes <= UPLOAD_LIMIT  # the app never saw what came after the limit
