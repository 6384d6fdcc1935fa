"""Source fetching: every redirect hop re-checked, connections pinned, size and hops bounded."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from jobs.contract.errors import SourceUnreachable, TooLarge
from worker.fetch import fetch

Handler = Callable[[httpx.Request], httpx.Response]


async def public_dns(host: str, port: int) -> list[str]:
    return {"images.example.com": ["93.184.216.34"], "cdn.example.net": ["151.101.1.1"]}.get(
        host, ["127.0.0.1"]
    )


async def get(handler: Handler, url: str, max_bytes: int = 10_000, allow_private: bool = False) -> bytes:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await fetch(client, url, max_bytes=max_bytes, allow_private=allow_private, resolver=public_dns)


async def test_public_looking_host_redirecting_to_loopback_is_refused_on_that_hop() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "http://localhost:6379/secret"})

    with pytest.raises(SourceUnreachable, match="non-public"):
        await get(handler, "http://images.example.com/a.jpg")
    assert len(seen) == 1  # the second hop never left the machine


async def test_connections_go_to_the_checked_address_with_the_original_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/a.jpg":
            return httpx.Response(301, headers={"location": "https://cdn.example.net/b.jpg"})
        return httpx.Response(200, content=b"pixels")

    assert await get(handler, "http://images.example.com/a.jpg") == b"pixels"
    first, second = seen
    assert (first.url.host, first.headers["host"]) == ("93.184.216.34", "images.example.com")
    assert (second.url.host, second.headers["host"]) == ("151.101.1.1", "cdn.example.net")
    assert second.extensions["sni_hostname"] == "cdn.example.net"  # TLS verified against the name


async def test_size_limit_redirect_limit_and_errors() -> None:
    def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000)

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/again"})

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404)

    with pytest.raises(TooLarge):
        await get(big, "http://images.example.com/a.jpg", max_bytes=1000)
    assert await get(big, "http://images.example.com/a.jpg", max_bytes=5000) == b"x" * 5000
    with pytest.raises(SourceUnreachable, match="redirects"):
        await get(loop, "http://images.example.com/a.jpg")
    with pytest.raises(SourceUnreachable, match="404"):
        await get(missing, "http://images.example.com/a.jpg")
