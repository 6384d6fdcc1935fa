"""Traffic during an outage: a thread that keeps calling the API and records every answer.

It cycles upload → get → list → download at a steady pace, so whatever is down, each kind
of request keeps arriving; the test then asserts on what came back while the fault lasted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType

import httpx

KINDS = ("upload", "get", "list", "download")


@dataclass(frozen=True, slots=True)
class Answer:
    sent: float  # time.monotonic() when the request left
    at: float  # ... and when its answer arrived
    kind: str  # upload | get | list | download
    status: int  # HTTP status; 0 = no answer at all (transport error or timeout)
    error: str  # the error body's code ("unavailable", ...) or the transport error's name


@dataclass
class Hammer:
    base_url: str
    api_key: str
    image: bytes
    known_id: str  # a ready image the account owns, for the gets and downloads
    pace: float = 0.05  # seconds between requests: steady traffic without starving the worker
    answers: list[Answer] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # ids of uploads answered 202
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Hammer:
        self._thread = threading.Thread(target=self._run, name="hammer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object | TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers={"x-api-key": self.api_key}, timeout=30) as http:
            n = 0
            while not self._stop.is_set():
                kind = KINDS[n % len(KINDS)]
                self.answers.append(self._call(http, kind, n))
                n += 1
                self._stop.wait(self.pace)

    def _call(self, http: httpx.Client, kind: str, n: int) -> Answer:
        sent = time.monotonic()
        try:
            if kind == "upload":
                response = http.post(
                    "/v1/images/upload", files={"file": (f"h{n}.jpg", self.image, "image/jpeg")}
                )
            elif kind == "get":
                response = http.get(f"/v1/images/{self.known_id}")
            elif kind == "download":
                response = http.get(f"/v1/images/{self.known_id}/download", params={"size": "small"})
            else:
                response = http.get("/v1/images", params={"limit": 5})
        except httpx.HTTPError as exc:
            return Answer(sent, time.monotonic(), kind, 0, type(exc).__name__)
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        if kind == "upload" and response.status_code == 202:
            self.accepted.append(str(body["id"]))
        return Answer(sent, time.monotonic(), kind, response.status_code, str(body.get("error") or ""))

    def sent_between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.sent <= end]

    @staticmethod
    def tally(answers: list[Answer]) -> Counter[tuple[str, int]]:
        return Counter((a.kind, a.status) for a in answers)

    @staticmethod
    def slowest(answers: list[Answer]) -> float:
        return max((a.at - a.sent for a in answers), default=0.0)
