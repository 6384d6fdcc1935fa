"""Rate limiting: atomic token buckets in Redis, shared by every API process (429 + ``Retry-After``).

Three kinds of bucket, all spent by :mod:`jobs.api.auth` from the request's headers, before
any body byte is read:

* **per API key** — ``DARKROOM_RATE_LIMIT_BURST`` tokens refilled at
  ``DARKROOM_RATE_LIMIT_PER_SECOND``/s; each request takes one;
* **per client address, without a key** — the same allowance, so anonymous callers are
  limited too;
* **failed authentications per client address** — ``DARKROOM_AUTH_FAILURE_BURST`` refilled
  at ``DARKROOM_AUTH_FAILURE_PER_SECOND``/s; a wrong API key or dashboard login takes one.
  While it is empty every attempt from that address is refused with 429 *before its key
  is checked*, right ones included: otherwise a guess that hits would still answer 200 and
  guessing would go on at wire speed.

An address is the peer uvicorn reports (``--forwarded-allow-ips`` decides whether
``X-Forwarded-For`` is believed); IPv6 addresses count by their /64.
A rate of 0 disables a kind (no Redis call at all). Buckets are named by a hash of the key
(``darkroom:ratelimit:{sha256(key)[:16]}``, the key itself is never stored) or by the
address, and updated by one Lua script using Redis' own clock (``TIME``), so API processes
with skewed clocks share one exact budget and concurrent requests never exceed the burst.
Idle buckets expire once they would be full again (:mod:`jobs.plumbing.store.token_buckets` keeps
them). Redis down → 503.

:class:`RateLimitHeaders` adds ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` to every
answer of a request that went through the key's limiter (429s included).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from typing import Any, Final, Protocol

import structlog
from fastapi import Request
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.contract.constants import NAMESPACE
from jobs.contract.errors import RateLimited
from jobs.contract.settings import Settings
from jobs.plumbing.store.token_buckets import BUCKET_SCRIPT, Bucket, RateDecision, take_tokens

__all__ = [
    "BUCKET_SCRIPT",
    "KEY_BUCKET",
    "STATE_KEY",
    "Bucket",
    "LimiterContext",
    "RateDecision",
    "RateLimitHeaders",
    "address_bucket",
    "auth_failure_bucket",
    "bucket_key",
    "client_id",
    "enforce_rate_limit",
    "key_bucket",
    "key_id",
    "refusal",
    "take_token",
    "take_tokens",
]

log = structlog.get_logger(__name__)

STATE_KEY: Final = "rate_limit"
KEY_BUCKET: Final = "requests per API key"


class LimiterContext(Protocol):
    """What the limiter needs from the API ctx (:class:`jobs.api.context.ApiContext` has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def redis(self) -> Redis: ...


def key_id(api_key: str) -> str:
    """A short, non-reversible id of an API key (bucket name, logs)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def bucket_key(api_key: str) -> str:
    return f"{NAMESPACE}:ratelimit:{key_id(api_key)}"


def client_id(host: str) -> str:
    """Whose budget an address spends: the address, or its /64 for IPv6 (one host gets a
    whole /64, so per-address buckets would be free to multiply)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # "testclient", a unix socket: one budget for the lot
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def key_bucket(settings: Settings, api_key: str) -> Bucket | None:
    """A key's request budget (``RATE_LIMIT_*``); None when rate limiting is off."""
    rate, burst = settings.rate_limit_per_second, settings.rate_limit_burst
    return Bucket(bucket_key(api_key), rate, burst, KEY_BUCKET) if rate > 0 else None


def address_bucket(settings: Settings, client: str) -> Bucket | None:
    """The same budget for requests without a key, per client address."""
    rate, burst = settings.rate_limit_per_second, settings.rate_limit_burst
    key = f"{NAMESPACE}:ratelimit:addr:{client_id(client)}"
    return Bucket(key, rate, burst, "requests without an API key per address") if rate > 0 else None


def auth_failure_bucket(settings: Settings, client: str) -> Bucket | None:
    """Failed authentications per client address (``AUTH_FAILURE_*``); None when off."""
    rate, burst = settings.auth_failure_per_second, settings.auth_failure_burst
    key = f"{NAMESPACE}:ratelimit:authfail:{client_id(client)}"
    return Bucket(key, rate, burst, "failed authentications per address") if rate > 0 else None


async def take_token(redis: Redis, api_key: str, *, rate: float, burst: int) -> RateDecision:
    """Take one token from ``api_key``'s bucket, atomically (Redis errors → BrokerUnavailable)."""
    bucket = Bucket(bucket_key(api_key), rate, burst, KEY_BUCKET)
    return (await take_tokens(redis, [bucket]))[0]


def refusal(buckets: Sequence[Bucket], decisions: Sequence[RateDecision], **context: Any) -> RateLimited:
    """The 429 for a refused call, naming the first bucket that lacked tokens (and logged)."""
    bucket, decision = next(
        ((b, d) for b, d in zip(buckets, decisions, strict=True) if d.retry_after > 0),
        (buckets[0], decisions[0]),
    )
    retry_after = max(1, math.ceil(decision.retry_after))
    log.info("http.rate_limited", limit=bucket.what, retry_after=retry_after, **context)
    return RateLimited(
        f"Rate limit exceeded ({bucket.what}: {bucket.rate:g}/s, burst {bucket.burst}); "
        f"retry in {retry_after} s.",
        retry_after=retry_after,
    )


async def enforce_rate_limit(
    ctx: LimiterContext, key: str, request: Request | None = None
) -> RateDecision | None:
    """Spend one request of ``key``'s budget or raise :class:`RateLimited` (429, ``Retry-After``).

    Call it after the key is authenticated. Pass ``request`` to get the ``X-RateLimit-*``
    headers (via :class:`RateLimitHeaders`). Returns ``None`` when rate limiting is off.
    """
    bucket = key_bucket(ctx.settings, key)
    if bucket is None:
        return None
    decision = (await take_tokens(ctx.redis, [bucket]))[0]
    if request is not None:
        setattr(request.state, STATE_KEY, decision)
    if not decision.allowed:
        raise refusal([bucket], [decision], key_id=key_id(key))
    return decision


class RateLimitHeaders:
    """Pure ASGI middleware: ``X-RateLimit-Limit``/``-Remaining`` from the request's decision."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state: dict[str, Any] = scope.get("state") or {}
                decision = state.get(STATE_KEY)
                if isinstance(decision, RateDecision):
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"x-ratelimit-limit", str(decision.limit).encode()),
                        (b"x-ratelimit-remaining", str(decision.remaining).encode()),
                    ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
