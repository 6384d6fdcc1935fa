"""Clients retry 429/503/connection failures safely: every POST carries one Idempotency-Key."""

from __future__ import annotations

import httpx
import pytest

from jobs.client import AsyncClient, Client
from jobs.contract.errors import RateLimited, Unavailable
from jobs.contract.ids import new_image_id

IMAGE = {"id": new_image_id(), "name": "x", "filename": "x.jpg", "status": "processing"}


def scripted(*statuses: int) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = queue.pop(0) if queue else 202
        if status in (429, 503):
            body = {
                "status": status,
                "error": "rate_limited" if status == 429 else "unavailable",
                "message": "later",
            }
            return httpx.Response(status, json=body, headers={"Retry-After": "0"})
        return httpx.Response(status, json=IMAGE)

    return httpx.MockTransport(handler), seen


def test_retries_keep_the_same_idempotency_key() -> None:
    transport, seen = scripted(503, 429)
    with Client("http://dr", "k", transport=transport) as client:
        image = client.upload_url("https://example.com/a.jpg")
    assert image.id == IMAGE["id"] and len(seen) == 3
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(keys) == 1 and next(iter(keys)).startswith("dr-")


def test_gives_up_with_the_server_error_after_retries() -> None:
    transport, seen = scripted(429, 429, 429, 429, 429)
    with Client("http://dr", "k", transport=transport, retries=2) as client, pytest.raises(RateLimited):
        client.upload_url("https://example.com/a.jpg")
    assert len(seen) == 3


async def test_gets_carry_no_key_and_async_client_retries_too() -> None:
    transport, seen = scripted(503)
    async_transport = httpx.MockTransport(transport.handler)  # type: ignore[attr-defined]

    async with AsyncClient("http://dr", "k", transport=async_transport) as client:
        await client.get(IMAGE["id"])
    assert len(seen) == 2 and "idempotency-key" not in seen[0].headers


def test_unreachable_server_is_unavailable() -> None:
    with Client("http://127.0.0.1:9", "k", retries=1, timeout=2) as client, pytest.raises(Unavailable):
        client.get(IMAGE["id"])


def test_ids_stay_one_path_segment() -> None:
    """An id never steers a call to another endpoint (``..`` or ``/`` are escaped, not resolved)."""
    transport, seen = scripted(200, 200, 200)
    with Client("http://dr", "k", transport=transport) as client:
        client.purge_status("../images")
        client.get("../../v1/images?filter[status]=failed")
        client.delete("a/b")
    assert [r.url.raw_path.decode() for r in seen] == [
        "/v1/purge/..%2Fimages",
        "/v1/images/..%2F..%2Fv1%2Fimages%3Ffilter%5Bstatus%5D%3Dfailed",
        "/v1/images/a%2Fb",
    ]
