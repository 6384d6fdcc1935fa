"""Per-key token bucket on the real Redis: burst then 429, refill, isolation, concurrency, outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import pytest
import redis
from fastapi import Depends, FastAPI, Header, Request
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from jobs.api.errors import install_error_handlers
from jobs.api.ratelimit import (
    Bucket,
    RateDecision,
    RateLimitHeaders,
    bucket_key,
    enforce_rate_limit,
    refusal,
    take_tokens,
)
from jobs.contract.errors import BrokerUnavailable, RateLimited
from jobs.contract.settings import Settings
from tests.support.servers import free_port


@dataclass
class Ctx:
    settings: Settings
    redis: Redis


async def attempt(settings: Settings, key: str, n: int = 1) -> list[RateDecision | RateLimited | None]:
    """``n`` sequential calls; each outcome is the decision or the RateLimited raised."""
    ctx = Ctx(settings, Redis.from_url(settings.redis_url))
    outcomes: list[RateDecision | RateLimited | None] = []
    try:
        for _ in range(n):
            try:
                outcomes.append(await enforce_rate_limit(ctx, key))
            except RateLimited as exc:
                outcomes.append(exc)
    finally:
        await ctx.redis.aclose()
    return outcomes


async def limited(request: Request, x_api_key: Annotated[str, Header()]) -> str:
    """The dependency as ``require_account`` will run it: after the key is known."""
    await enforce_rate_limit(request.app.state.ctx, x_api_key, request)
    return x_api_key


def tiny_app(settings: Settings) -> FastAPI:
    """A route behind the limiter, with the real error handlers and the headers middleware."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ctx = Ctx(settings, Redis.from_url(settings.redis_url))
        yield
        await app.state.ctx.redis.aclose()

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(RateLimitHeaders)

    @app.get("/ping")
    async def ping(key: Annotated[str, Depends(limited)]) -> dict[str, str]:
        return {"key": key}

    return app


@pytest.fixture
def client_for(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        client = TestClient(tiny_app(make_settings(**overrides)), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def test_burst_is_allowed_then_429_with_a_sane_retry_after(client_for: Callable[..., TestClient]) -> None:
    api = client_for(rate_limit_per_second=0.5, rate_limit_burst=3)
    answers = [api.get("/ping", headers={"x-api-key": "k1"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"3"}
    refused = answers[-1]
    assert refused.json()["status"] == 429 and refused.json()["error"] == "rate_limited"
    assert refused.headers["retry-after"] == "2"  # one token at 0.5/s, rounded up


async def test_the_bucket_refills_over_time(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_second=5.0, rate_limit_burst=2)
    first = await attempt(settings, "k1", 3)
    assert [isinstance(o, RateDecision) for o in first] == [True, True, False]
    refused = first[2]
    assert isinstance(refused, RateLimited) and refused.retry_after == 1  # ≤ 0.2 s, rounded up to 1 s
    time.sleep(0.5)  # 2.5 tokens' worth at 5/s; the bucket holds at most 2
    again = await attempt(settings, "k1", 3)
    assert [isinstance(o, RateDecision) for o in again] == [True, True, False]


async def test_keys_have_separate_buckets_named_by_a_hash(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_second=0.01, rate_limit_burst=2)
    a = await attempt(settings, "secret-key-a", 3)
    b = await attempt(settings, "secret-key-b", 2)
    assert isinstance(a[2], RateLimited) and all(isinstance(o, RateDecision) for o in b)
    r = redis.Redis.from_url(settings.redis_url)
    names = sorted(k.decode() for k in r.scan_iter("darkroom:ratelimit:*"))
    assert names == sorted([bucket_key("secret-key-a"), bucket_key("secret-key-b")])
    assert not any("secret-key" in name for name in names)
    assert 0 < r.pttl(names[0]) <= (2 / 0.01) * 1000 + 1000  # idle buckets vanish once full again


async def test_zero_rate_disables_the_limiter_without_touching_redis(
    make_settings: Callable[..., Settings],
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(rate_limit_per_second=0, rate_limit_burst=1, redis_url=dead)
    assert await attempt(settings, "k1", 50) == [None] * 50


async def test_concurrent_requests_never_exceed_the_burst(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_second=0.001, rate_limit_burst=10)

    async def storm() -> list[bool]:
        clients = [Redis.from_url(settings.redis_url) for _ in range(4)]

        async def one(i: int) -> bool:
            try:
                await enforce_rate_limit(Ctx(settings, clients[i % 4]), "k1")
            except RateLimited:
                return False
            return True

        try:
            return await asyncio.gather(*(one(i) for i in range(60)))
        finally:
            for client in clients:
                await client.aclose()

    results = await storm()
    assert sum(results) == 10 and len(results) == 60


async def test_redis_down_is_a_503_not_a_500(make_settings: Callable[..., Settings]) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(rate_limit_per_second=10.0, redis_url=dead)
    with pytest.raises(BrokerUnavailable):
        await attempt(settings, "k1")
    with TestClient(tiny_app(settings), raise_server_exceptions=False) as api:
        answer = api.get("/ping", headers={"x-api-key": "k1"})
    assert answer.status_code == 503 and answer.json()["error"] == "unavailable"
    assert "x-ratelimit-limit" not in answer.headers


async def test_several_buckets_are_all_or_nothing_and_a_peek_writes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    gate = Bucket("darkroom:ratelimit:test-gate", 0.001, 1, "gate")
    own = Bucket("darkroom:ratelimit:test-own", 0.001, 5, "own")

    async def run() -> list[list[RateDecision]]:
        client = Redis.from_url(settings.redis_url)
        try:
            peeked = await take_tokens(client, [gate.peek(), own])  # gate untouched: stays absent
            assert await client.exists(gate.key) == 0
            spent = await take_tokens(client, [gate])  # the gate's only token
            refused = await take_tokens(client, [gate.peek(), own])  # so `own` must not pay either
            return [peeked, spent, refused]
        finally:
            await client.aclose()

    peeked, spent, refused = await run()
    assert [d.allowed for d in peeked] == [True, True] and peeked[1].remaining == 4
    assert spent[0].allowed and spent[0].remaining == 0
    assert [d.allowed for d in refused] == [False, False]
    assert refused[0].retry_after > 0 and refused[1].retry_after == 0 and refused[1].remaining == 4
    exc = refusal([gate.peek(), own], refused)
    assert exc.retry_after >= 1 and "gate" in exc.message
