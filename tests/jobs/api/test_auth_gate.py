"""Strangers cost nothing: 401 from the headers before any body byte, limits per client address.

* A request without a valid key is answered while its body is still unsent (a real uvicorn
  server, raw sockets): the route, its form parser and its body read never run.
* Requests without a key spend the per-address budget (``RATE_LIMIT_*``): 429 once it is spent.
* Failed authentications (wrong API key, dashboard login or login link) spend a per-address
  budget (``AUTH_FAILURE_*``) shared by every replica through Redis; once it is spent, every
  credential from that address is refused with 429 + ``Retry-After`` before it is checked,
  right ones included, so a hit cannot be told from a miss.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.api.ratelimit import client_id
from jobs.contract.settings import Settings
from tests.jobs.api.test_body_limit import read_response, serve
from tests.support.api import K1

DECLARED = 10 * 1024 * 1024  # under the 20 MB upload limit: BodyLimit lets it through
SENT = 64 * 1024
BOUNDARY = b"darkroom-test-boundary"
ATTACKER, NEIGHBOUR = "198.51.100.9", "203.0.113.7"


def partial_request(path: str, content_type: bytes, headers: bytes) -> bytes:
    """Headers announcing DECLARED body bytes, and the first SENT of them."""
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        path.encode(),
        content_type,
        DECLARED,
        headers,
    )
    if content_type.startswith(b"multipart/"):
        part = b'--%s\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n' % BOUNDARY
        return head + (part + b"\xff" * SENT)[:SENT]
    return head + b"[" * SENT if content_type == b"application/json" else head + b"\xff" * SENT


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/images/upload", b"multipart/form-data; boundary=" + BOUNDARY),
        ("/v1/images/upload", b"application/octet-stream"),
        ("/v1/images", b"application/json"),
    ],
)
@pytest.mark.parametrize("credentials", [b"", b"x-api-key: wrong\r\n", b"Authorization: Bearer wrong\r\n"])
def test_a_request_without_a_valid_key_is_answered_before_its_body_is_sent(
    make_settings: Callable[..., Settings], path: str, content_type: bytes, credentials: bytes
) -> None:
    settings = make_settings(max_json_bytes=2 * DECLARED)  # the JSON body is not refused for size
    with (
        serve(create_app(settings), lifespan="on") as port,
        socket.create_connection(("127.0.0.1", port), timeout=60) as sock,
    ):
        sock.sendall(partial_request(path, content_type, credentials))
        # the body is 64 KiB of 10 MiB: an answer now means nobody waited for (or read) the rest
        status, body = read_response(sock)
    assert status == 401, body
    assert body["error"] == "unauthorized" and body["status"] == 401


@contextmanager
def replicas(settings: Settings, *addresses: str) -> Iterator[list[TestClient]]:
    """One replica of the app per client address, all on the same Redis."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                TestClient(create_app(settings), raise_server_exceptions=False, client=(address, 50000))
            )
            for address in addresses
        ]


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "rate_limited" and response.json()["status"] == 429
    assert int(response.headers["retry-after"]) >= 1


def test_requests_without_a_key_are_rate_limited_per_address(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_second=0.001, rate_limit_burst=2)
    with replicas(settings, ATTACKER, ATTACKER, NEIGHBOUR) as [attacker, other_replica, neighbour]:
        assert [attacker.get("/v1/images").status_code for _ in range(2)] == [401, 401]
        assert_rate_limited(other_replica.post("/v1/images/upload", content=b"x" * 1000))
        assert neighbour.get("/v1/images").status_code == 401  # another address, its own budget
        assert attacker.get("/v1/images", headers=K1).status_code == 200  # the key's own budget


def test_failed_authentications_are_throttled_per_address_across_replicas(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(auth_failure_per_second=0.001, auth_failure_burst=3)
    with replicas(settings, ATTACKER, ATTACKER, NEIGHBOUR) as [one, two, neighbour]:
        assert one.get("/v1/images", headers={"x-api-key": "guess-1"}).status_code == 401
        assert two.get("/v1/images", headers={"Authorization": "Bearer guess-2"}).status_code == 401
        assert one.post("/v1/images", headers={"x-api-key": "guess-3"}, json={}).status_code == 401
        assert_rate_limited(two.get("/v1/images", headers={"x-api-key": "guess-4"}))
        # the right key from the throttled address is refused the same way: no oracle
        assert_rate_limited(one.get("/v1/images", headers=K1))
        assert two.post("/dashboard/login", data={"key": "k1"}).status_code == 429
        assert neighbour.get("/v1/images", headers=K1).status_code == 200
        assert neighbour.get("/v1/images", headers={"x-api-key": "guess-5"}).status_code == 401


def test_failed_dashboard_logins_are_throttled_like_api_keys(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(auth_failure_per_second=0.001, auth_failure_burst=3, admin_key="admin")
    with replicas(settings, ATTACKER, ATTACKER) as [browser, api]:
        assert browser.post("/dashboard/login", data={"key": "guess-1"}).status_code == 401
        assert browser.get("/dashboard/login", params={"token": "v1.forged.link"}).status_code == 401
        assert browser.post("/dashboard/login", data={"key": "guess-2"}).status_code == 401
        refused = browser.post("/dashboard/login", data={"key": "admin"}, follow_redirects=False)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "darkroom_dashboard" not in refused.cookies  # not signed in
        assert_rate_limited(api.get("/v1/images", headers=K1))


def test_a_right_key_spends_no_failure_and_zero_disables_the_throttle(
    make_settings: Callable[..., Settings],
) -> None:
    throttled = make_settings(auth_failure_per_second=0.001, auth_failure_burst=2)
    with replicas(throttled, ATTACKER) as [api]:
        assert all(api.get("/v1/images", headers=K1).status_code == 200 for _ in range(5))
        assert [api.get("/v1/images", headers={"x-api-key": g}).status_code for g in "ab"] == [401, 401]
        assert_rate_limited(api.get("/v1/images", headers={"x-api-key": "c"}))  # the 5 right ones spent none
    off = make_settings(auth_failure_per_second=0)
    with replicas(off, ATTACKER) as [api]:
        assert {api.get("/v1/images", headers={"x-api-key": f"g{i}"}).status_code for i in range(30)} == {401}


def test_an_address_is_its_ipv6_64_or_its_ipv4() -> None:
    assert client_id("2001:db8::1") == client_id("2001:db8::ffff:2") == "2001:db8::/64"
    assert client_id("2001:db8:0:1::1") != client_id("2001:db8::1")
    assert client_id("::ffff:198.51.100.9") == client_id("198.51.100.9") == "198.51.100.9"
    assert client_id("testclient") == "testclient"


def read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize(("path", "expected"), [("/dashboard/requeue", 401), ("/dashboard/logout", 303)])
@pytest.mark.parametrize("cookie", [b"", b"Cookie: darkroom_dashboard=v1.forged.token\r\n"])
def test_a_dashboard_form_without_a_session_is_answered_before_its_body_is_sent(
    make_settings: Callable[..., Settings], path: str, expected: int, cookie: bytes
) -> None:
    settings = make_settings(max_json_bytes=2 * DECLARED, admin_key="admin-key")
    with (
        serve(create_app(settings), lifespan="on") as port,
        socket.create_connection(("127.0.0.1", port), timeout=60) as sock,
    ):
        sock.sendall(partial_request(path, b"application/x-www-form-urlencoded", cookie))
        # 64 KiB of a 10 MiB form: an answer now means the form was never read
        assert read_status(sock) == expected
