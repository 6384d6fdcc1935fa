"""Rate limiting per API key: an atomic token bucket in Redis (429 + ``Retry-After``).

Each key has a bucket of ``DARKROOM_RATE_LIMIT_BURST`` tokens refilled at
``DARKROOM_RATE_LIMIT_PER_SECOND`` tokens/s; a request takes one token or is refused with
429 ``rate_limited`` and ``Retry-After`` (whole seconds until a token is back).
``RATE_LIMIT_PER_SECOND=0`` disables the limiter (no Redis call at all).

The bucket lives in ``darkroom:ratelimit:{sha256(key)[:16]}`` (the key itself is never
stored) and is updated by one Lua script using Redis' own clock (``TIME``), so API
processes with skewed clocks share one exact budget and concurrent requests never exceed
the burst. Idle buckets expire once they would be full again. Redis down → 503.

:class:`RateLimitHeaders` adds ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` to every
answer of a request that went through the limiter (429s included).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Final, Protocol

import structlog
from fastapi import Request
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.constants import NAMESPACE
from jobs.errors import RateLimited
from jobs.settings import Settings
from jobs.store.errors import redis_errors

log = structlog.get_logger(__name__)

STATE_KEY: Final = "rate_limit"

# KEYS[1] bucket hash {tokens, ts}; ARGV: rate (tokens/s), burst, cost.
# Returns {allowed 0|1, tokens left, seconds until `cost` tokens are available} (floats as strings).
BUCKET_SCRIPT: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, string.format('%.6f', tokens), string.format('%.6f', wait)}
"""


class LimiterContext(Protocol):
    """What the limiter needs from the API ctx (:class:`jobs.api.context.ApiContext` has it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def redis(self) -> Redis: ...


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until the next token (0 when allowed)


def key_id(api_key: str) -> str:
    """A short, non-reversible id of an API key (bucket name, logs)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def bucket_key(api_key: str) -> str:
    return f"{NAMESPACE}:ratelimit:{key_id(api_key)}"


async def take_token(redis: Redis, api_key: str, *, rate: float, burst: int) -> RateDecision:
    """Take one token from ``api_key``'s bucket, atomically (Redis errors → BrokerUnavailable)."""
    script = redis.register_script(BUCKET_SCRIPT)
    with redis_errors():
        allowed, tokens, wait = await script(keys=[bucket_key(api_key)], args=[repr(rate), burst, 1])
    return RateDecision(
        allowed=bool(int(allowed)),
        limit=burst,
        remaining=max(0, math.floor(float(tokens))),
        retry_after=float(wait),
    )


async def enforce_rate_limit(
    ctx: LimiterContext, key: str, request: Request | None = None
) -> RateDecision | None:
    """Spend one request of ``key``'s budget or raise :class:`RateLimited` (429, ``Retry-After``).

    Call it after the key is authenticated. Pass ``request`` to get the ``X-RateLimit-*``
    headers (via :class:`RateLimitHeaders`). Returns ``None`` when rate limiting is off.
    """
    rate, burst = ctx.settings.rate_limit_per_second, ctx.settings.rate_limit_burst
    if rate <= 0:
        return None
    decision = await take_token(ctx.redis, key, rate=rate, burst=burst)
    if request is not None:
        setattr(request.state, STATE_KEY, decision)
    if not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after))
        log.info("http.rate_limited", key_id=key_id(key), retry_after=retry_after)
        raise RateLimited(
            f"Rate limit exceeded ({rate:g} requests/s, burst {burst}); retry in {retry_after} s.",
            retry_after=retry_after,
        )
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
