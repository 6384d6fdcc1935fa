"""SSRF, end to end: with ``ALLOW_PRIVATE_SOURCES=false`` the live API refuses every forbidden URL.

Each class of forbidden ``url`` (create from URL) and ``callback_url`` (webhook) gets a 400
``invalid_request`` naming the field, and nothing is created. A host whose DNS fails at
request time may be a temporary failure, so it is accepted; the worker retries it and the
image ends ``failed`` with ``source_unreachable``. (That a public-looking host redirecting to
127.0.0.1 is refused on the redirect hop is proven in ``tests/worker/test_fetch.py``: the worker
under test can reach no public address to redirect from.)
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from jobs.settings import Settings
from jobs.states import Status
from tests.e2e.conftest import Stack
from tests.support.faults import account_image_ids
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e

FORBIDDEN = {
    "loopback": "http://127.0.0.1:6379/",
    "loopback by name": "http://localhost/a.jpg",
    "loopback, short form": "http://127.1/a.jpg",
    "loopback, decimal": "http://2130706433/a.jpg",
    "loopback behind userinfo": "http://images.example.com@127.0.0.1/a.jpg",
    "loopback IPv6": "http://[::1]/a.jpg",
    "IPv4-mapped IPv6 loopback": "http://[::ffff:127.0.0.1]/a.jpg",
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
