"""Pipeline test helpers: a loopback webhook receiver and a real WorkerContext with images in known states."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import pytest

from jobs.contract.ids import new_image_id
from jobs.contract.models import Image
from jobs.contract.payloads import UploadJob
from jobs.contract.settings import Settings
from jobs.plumbing.storage import open_storage
from jobs.plumbing.store import Record
from tests.support.worker_ctx import make_worker_ctx
from worker.context import WorkerContext

T = TypeVar("T")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers from ``answers`` (default 200)."""

    port: int
    requests: list[Received] = field(default_factory=list)
    answers: deque[Answer] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *answers: Answer) -> None:
        self.answers.extend(answers)


def handler_for(receiver_ref: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            receiver = receiver_ref[0]
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.command, self.path, dict(self.headers.items()), body))
                answer = receiver.answers.popleft() if receiver.answers else Answer()
            if answer.delay_s:
                threading.Event().wait(answer.delay_s)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


async def with_ctx(settings: Settings, body: Callable[[WorkerContext], Awaitable[T]]) -> T:
    """Open the real ``WorkerContext`` (real Redis, local storage) on the running loop, run, close."""
    ctx = await make_worker_ctx(settings, storage=await open_storage(settings))
    try:
        return await body(ctx)
    finally:
        await ctx.close()


async def processing_upload(
    ctx: WorkerContext, job_id: str = "job-1", *, callback_url: str | None = None
) -> tuple[Record, UploadJob]:
    """A ``processing`` image of account acme owned by the upload job ``job_id`` (nothing staged);
    ``callback_url``: the webhook that job asked for."""
    image_id = new_image_id()
    record = Record(image=Image(id=image_id, name="cat", filename="cat.jpg"), account="acme")
    owner: dict[str, Any] = {"job_id": job_id, "kind": "upload"}
    if callback_url is not None:
        owner["callback_url"] = callback_url
    created = await ctx.store.create(record.with_job(owner, None))
    return created, UploadJob(image_id=image_id, account="acme", job_id=job_id)


def sent_jobs(ctx: WorkerContext, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The jobs ``ctx.queue`` is asked to send from now on, captured instead of enqueued."""
    sent: list[Any] = []

    async def capture(job: Any, *, delay_ms: int | None = None) -> str:
        sent.append(job)
        return "captured"

    monkeypatch.setattr(ctx.queue, "asend", capture)
    return sent
