"""callback_url: a signed POST on the terminal state, retried after a failure, attempts visible."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from jobs.contract.settings import Settings
from jobs.services.webhooks import verify
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e


class Receiver(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        code = Receiver.statuses.pop(0) if Receiver.statuses else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.statuses, Receiver.received = [500], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/darkroom"
    server.shutdown()


@pytest.fixture
def hook_stack(make_stack: Callable[[Settings], Stack], make_settings: Callable[..., Settings]) -> Stack:
    return make_stack(make_settings(webhook_retry_hours=0.001))  # first retry within a second


def test_webhook_is_signed_retried_and_recorded(hook_stack: Stack, receiver: str) -> None:
    client = hook_stack.client
    secret = client.rotate_webhook_secret()["secret"]  # acme's own secret, shown once
    image = client.upload(oriented_jpeg(120, 80, 1), callback_url=receiver)
    deadline = time.monotonic() + 60
    while len(Receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(Receiver.received) == 2, "expected a failed delivery and its retry"

    master = hook_stack.settings.webhook_secret.get_secret_value()
    with hook_stack.other_client() as globex:
        theirs = globex.rotate_webhook_secret()["secret"]
    for headers, body in Receiver.received:
        assert verify(secret, headers["darkroom-signature"], body)
        assert not verify("wrong-secret", headers["darkroom-signature"], body)
        assert not verify([master, theirs], headers["darkroom-signature"], body)  # not another's
        event = json.loads(body)
        assert event["type"] == "image.ready" and headers["darkroom-event"] == "image.ready"
        assert event["data"]["id"] == image.id and event["data"]["status"] == "ready"
        assert event["data"]["width"] == 120
    first, second = (json.loads(body)["id"] for _, body in Receiver.received)
    assert first == second  # same delivery id across retries: receivers dedupe on it

    attempts = httpx.get(
        f"{hook_stack.base_url}/v1/images/{image.id}/webhooks", headers={"x-api-key": "k1"}
    ).json()
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts["data"]] == [
        (2, 200, True),
        (1, 500, False),
    ]
    foreign = httpx.get(f"{hook_stack.base_url}/v1/images/{image.id}/webhooks", headers={"x-api-key": "k2"})
    assert foreign.status_code == 404


def test_failed_image_webhook(hook_stack: Stack, receiver: str) -> None:
    Receiver.statuses = []
    image = hook_stack.client.upload(b"garbage bytes", filename="bad.jpg", callback_url=receiver)
    deadline = time.monotonic() + 60
    while not Receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    headers, body = Receiver.received[0]
    assert headers["darkroom-event"] == "image.failed"
    event = json.loads(body)
    assert event["type"] == "image.failed" and event["data"]["id"] == image.id
    assert event["data"]["error"]["code"] == "media_failed"
