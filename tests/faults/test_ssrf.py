"""SSRF, end to end: with ``ALLOW_PRIVATE_SOURCES=false`` the live stack refuses every forbidden URL.

Each class of forbidden ``url`` (create from URL) and ``callback_url`` (webhook) gets a 400
``invalid_request`` naming the field, and nothing is created. A host whose DNS fails at
request time may be a temporary failure, so it is accepted; the worker retries it and the
image ends ``failed`` with ``source_unreachable``.

A public host that *redirects* to a forbidden address passes the API's check, so it is the
worker that must refuse the redirect hop. That is proven here against a really public host:
:func:`tests.support.netns.public_http_server` puts an HTTP server on a globally routable
IPv4 address in a network namespace of its own, routed from this machine. Fetching a JPEG
from it works (control); each redirect from it to loopback (by IP, name, decimal or
IPv4-mapped form, scheme-relative), ``[::1]`` or the metadata address ends the image
``failed`` with ``source_unreachable`` naming the refused URL (never the address it resolved
to), and the loopback servers that are the redirects' targets (serving a valid JPEG) are never
reached. A webhook to that
host is not redirected either: the 302 is recorded as a failed attempt, loopback untouched.
(``tests/worker/test_fetch.py`` covers the same with a fake resolver, as a unit test.)
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote, urljoin

import httpx
import pytest

from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.faults import account_image_ids, wait_until
from tests.support.images import oriented_jpeg
from tests.support.netns import NoLookupHTTPServer, PublicServer, public_http_server

pytestmark = pytest.mark.e2e

FORBIDDEN = {
    "loopback": "http://127.0.0.1:6379/",
    "loopback by name": "http://localhost/a.jpg",
    "loopback, short form": "http://127.1/a.jpg",
    "loopback, decimal": "http://2130706433/a.jpg",
    "loopback behind userinfo": "http://images.example.com@127.0.0.1/a.jpg",
    "loopback IPv6": "http://[::1]/a.jpg",
    "IPv4-mapped IPv6 loopback": "http://[::ffff:127.0.0.1]/a.jpg",
    "NAT64 loopback": "http://[64:ff9b::7f00:1]/a.jpg",
    "NAT64 local-use prefix": "http://[64:ff9b:1::808:808]/a.jpg",
    "IPv4-compatible loopback": "http://[::127.0.0.1]/a.jpg",
    "6to4 metadata": "http://[2002:a9fe:a9fe::1]/latest/meta-data/",
    "Teredo, loopback client": "http://[2001:0:808:808:8000:edcb:80ff:fffe]/a.jpg",
    "private 10/8": "http://10.0.0.7/a.jpg",
    "private 172.16/12": "http://172.16.5.4/a.jpg",
    "private 192.168/16": "https://192.168.1.1/a.jpg",
    "IPv6 unique local": "http://[fd00::1]/a.jpg",
    "cloud metadata (link-local)": "http://169.254.169.254/latest/meta-data/",
    "IPv6 link-local": "http://[fe80::1]/a.jpg",
    "carrier-grade NAT": "http://100.64.0.1/a.jpg",
    "unspecified": "http://0.0.0.0/a.jpg",
    "multicast": "http://224.0.0.1/a.jpg",
    "file scheme": "file:///etc/passwd",
    "ftp scheme": "ftp://example.com/a.jpg",
    "gopher scheme": "gopher://127.0.0.1:6379/_FLUSHALL",
    "no host": "http:///a.jpg",
}
UNRESOLVABLE = "http://images.no-such-host.invalid/cat.jpg"  # .invalid never resolves (RFC 6761)


@pytest.fixture
def guarded(make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]) -> Stack:
    return make_stack(fault_settings(allow_private_sources=False, max_retries=2, retry_max_backoff_ms=500))


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    """(status, error code, the field named in ``field`` *and* at the start of ``message``)."""
    body = response.json()
    field, message = str(body.get("field", "")), str(body.get("message", ""))
    named = message.startswith((f"{field} ", f"{field}:"))
    return response.status_code, str(body.get("error", "")), field if named else f"{field} (not in message)"


def test_every_forbidden_url_class_is_refused_naming_the_field(guarded: Stack) -> None:
    refused: dict[str, dict[str, tuple[int, str, str]]] = {}
    with httpx.Client(base_url=guarded.base_url, headers={"x-api-key": "k1"}, timeout=30) as api:
        for name, url in FORBIDDEN.items():
            as_source = api.post("/v1/images", json={"url": url})
            as_callback = api.post(
                "/v1/images/upload",
                files={"file": ("a.jpg", oriented_jpeg(8, 8, 1), "image/jpeg")},
                data={"callback_url": url},
            )
            with_url = api.post("/v1/images", json={"url": UNRESOLVABLE, "callback_url": url})
            refused[name] = {
                "url": refusal(as_source),
                "upload callback_url": refusal(as_callback),
                "url callback_url": refusal(with_url),
            }
    expected = {
        "url": (400, "invalid_request", "url"),
        "upload callback_url": (400, "invalid_request", "callback_url"),
        "url callback_url": (400, "invalid_request", "callback_url"),
    }
    assert refused == dict.fromkeys(FORBIDDEN, expected)
    assert account_image_ids(guarded.settings.redis_url, "acme") == set(), (
        "a refused request created an image"
    )


def test_unresolvable_host_is_accepted_then_fails_after_the_retries(guarded: Stack) -> None:
    image = guarded.client.upload_url(UNRESOLVABLE)
    assert image.status == Status.PROCESSING
    failed = guarded.client.wait(image.id, timeout=30)
    assert failed.status == Status.FAILED
    assert failed.error is not None and failed.error.code == "source_unreachable", failed.error
    assert "resolve" in failed.error.message and "after 3 attempts" in failed.error.message  # 1 + 2 retries


# --- a really public host redirecting to forbidden addresses ------------------------------------------

JPEG = oriented_jpeg(64, 48, 1)


@dataclass
class Trap:
    """Loopback HTTP servers (127.0.0.1 and, where there is one, [::1], on the same port) that
    serve a valid JPEG to anyone and record every request: what a successful SSRF would reach."""

    port: int
    ipv6: bool
    hits: list[str] = field(default_factory=list)


class TrapServer6(NoLookupHTTPServer):
    address_family = socket.AF_INET6


def bind_trap(handler: type[BaseHTTPRequestHandler]) -> tuple[NoLookupHTTPServer, NoLookupHTTPServer | None]:
    """A server on 127.0.0.1 and, on the same port, one on [::1] (``None`` without IPv6 loopback)."""
    for _ in range(20):
        v4 = NoLookupHTTPServer(("127.0.0.1", 0), handler)
        try:
            return v4, TrapServer6(("::1", v4.server_address[1]), handler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return v4, None
            v4.server_close()
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


@contextmanager
def loopback_trap() -> Iterator[Trap]:
    trap = Trap(port=0, ipv6=False)

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            trap.hits.append(f"{self.command} {self.path} from {self.client_address[0]}")
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    v4, v6 = bind_trap(Handler)
    trap.port, trap.ipv6 = int(v4.server_address[1]), v6 is not None
    with ExitStack() as servers:
        for server in (v4, v6):
            if server is not None:
                servers.enter_context(server)  # closed last
                threading.Thread(target=server.serve_forever, daemon=True).start()
                servers.callback(server.shutdown)
        yield trap


@pytest.fixture
def trap() -> Iterator[Trap]:
    with loopback_trap() as trap:
        yield trap


@pytest.fixture
def public_server() -> Iterator[PublicServer]:
    """An HTTP server on a globally routable IPv4 address (own network namespace), reachable here."""
    with public_http_server(JPEG) as server:
        yield server


def redirect_path(target: str) -> str:
    return f"/redirect?to={quote(target, safe='')}"


def forbidden_redirects(trap: Trap) -> dict[str, str]:
    """Where the public host redirects to: each case's ``Location``."""
    port = trap.port
    targets = {
        "loopback": f"http://127.0.0.1:{port}/secret.jpg",
        "loopback by name": f"http://localhost:{port}/secret.jpg",
        "loopback, decimal": f"http://2130706433:{port}/secret.jpg",
        "IPv4-mapped IPv6 loopback": f"http://[::ffff:127.0.0.1]:{port}/secret.jpg",
        "loopback, scheme-relative": f"//127.0.0.1:{port}/secret.jpg",
        "cloud metadata (link-local)": "http://169.254.169.254/latest/meta-data/",
    }
    if trap.ipv6:
        targets["loopback IPv6"] = f"http://[::1]:{port}/secret.jpg"
    return targets


def outcome(image: Image, refused_url: str) -> tuple[Status, str, str]:
    """(status, error code, "names the redirect, not the address" or the message that does not)."""
    code = image.error.code if image.error else ""
    message = image.error.message if image.error else ""
    names = message.startswith("The source redirected to ") and (
        f"{refused_url} points to a non-public address; refused." in message
    )
    # what a name ("localhost") or a decimal host resolved to must not be told
    leaks = [a for a in ("127.0.0.1", "::1") if a not in refused_url and a in message]
    return image.status, code, "names the redirect, not the address" if names and not leaks else message


def test_public_host_works_but_its_redirects_to_forbidden_addresses_are_refused(
    public_server: PublicServer,
    trap: Trap,
    guarded: Stack,  # no netns: skipped before the stack starts
) -> None:
    client = guarded.client
    targets = forbidden_redirects(trap)
    control = client.upload_url(public_server.url("/ok.jpg"))
    redirected = {
        name: client.upload_url(public_server.url(redirect_path(to))) for name, to in targets.items()
    }

    ready = client.wait(control.id, timeout=30)
    assert (ready.status, ready.error, ready.width, ready.height) == (Status.READY, None, 64, 48)
    refused = {
        name: outcome(
            client.wait(image.id, timeout=30),
            urljoin(public_server.base_url, targets[name]),
        )
        for name, image in redirected.items()
    }
    assert refused == dict.fromkeys(
        targets, (Status.FAILED, "source_unreachable", "names the redirect, not the address")
    )
    assert trap.hits == [], "a redirect reached loopback"
    first_hops = sorted(["GET /ok.jpg", *(f"GET {redirect_path(to)}" for to in targets.values())])
    assert sorted(public_server.requests()) == first_hops  # each first hop really went to the public host


def test_webhook_to_a_public_host_redirecting_to_loopback_is_not_followed(
    public_server: PublicServer,
    trap: Trap,
    guarded: Stack,  # no netns: skipped before the stack starts
) -> None:
    hook = f"http://127.0.0.1:{trap.port}/hooks/darkroom"
    client = guarded.client
    image = client.upload(JPEG, callback_url=public_server.url(redirect_path(hook)))
    assert client.wait(image.id, timeout=30).status == Status.READY
    wait_until(lambda: client.webhooks(image.id) != [], "the webhook's first attempt", timeout=30)
    attempts = client.webhooks(image.id)
    assert [(a["attempt"], a["status_code"], a["delivered"]) for a in attempts] == [(1, 302, False)]
    assert public_server.requests() == [f"POST {redirect_path(hook)}"]
    assert trap.hits == [], "the webhook followed the redirect to loopback"
