"""Token buckets in Redis: one Lua script spends from several buckets at once, all or nothing.

The HTTP edge's rate limits (:mod:`jobs.api.ratelimit`) decide *which* buckets a request
spends; this module is how buckets are kept. Redis' own clock (``TIME``) times the refill,
so API processes with skewed clocks share one exact budget. Redis down → BrokerUnavailable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from redis.asyncio import Redis

from jobs.plumbing.store.errors import redis_errors

# KEYS: bucket hashes {tokens, ts}; ARGV: rate (tokens/s), burst, need, cost — four per bucket.
# All or nothing: when every bucket holds `need` tokens, each gives `cost` (a peek costs 0);
# otherwise none is spent. A bucket that is full again is deleted (a missing one is full), so
# peeking at an untouched bucket (every valid key's request does) writes nothing.
# Returns {allowed 0|1, then per bucket: tokens left, seconds until `need` tokens are back}.
BUCKET_SCRIPT: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens = {}
local existed = {}
local allowed = 1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[4 * i - 3])
  local burst = tonumber(ARGV[4 * i - 2])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local left = tonumber(state[1])
  local ts = tonumber(state[2])
  existed[i] = left ~= nil
  if left == nil or ts == nil then
    left = burst
    ts = now
  end
  tokens[i] = math.min(burst, left + math.max(0, now - ts) * rate)
  if tokens[i] < tonumber(ARGV[4 * i - 1]) then allowed = 0 end
end
local out = {allowed}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[4 * i - 3])
  local burst = tonumber(ARGV[4 * i - 2])
  local need = tonumber(ARGV[4 * i - 1])
  local left = tokens[i]
  if allowed == 1 then left = left - tonumber(ARGV[4 * i]) end
  if left >= burst then
    if existed[i] then redis.call('DEL', KEYS[i]) end
  else
    redis.call('HSET', KEYS[i], 'tokens', string.format('%.6f', left), 'ts', string.format('%.6f', now))
    redis.call('PEXPIRE', KEYS[i], math.ceil((burst - left) / rate * 1000) + 1000)
  end
  out[#out + 1] = string.format('%.6f', left)
  out[#out + 1] = string.format('%.6f', math.max(0, need - left) / rate)
end
return out
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until the next token (0 when allowed)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One token bucket in Redis, and what one request asks of it."""

    key: str
    rate: float  # tokens per second (> 0)
    burst: int
    what: str  # for the 429 message: "requests per API key"
    need: int = 1  # tokens that must be there
    cost: int = 1  # tokens spent when every bucket of the call has what it needs

    def peek(self) -> Bucket:
        """Ask that a token be there, spend none."""
        return replace(self, cost=0)


async def take_tokens(redis: Redis, buckets: Sequence[Bucket]) -> list[RateDecision]:
    """One atomic call: every bucket gives its cost, or (one lacks tokens) none does."""
    script = redis.register_script(BUCKET_SCRIPT)
    args: list[Any] = []
    for bucket in buckets:
        args += [repr(float(bucket.rate)), bucket.burst, bucket.need, bucket.cost]
    with redis_errors():
        allowed, *rest = await script(keys=[b.key for b in buckets], args=args)
    return [
        RateDecision(
            allowed=bool(int(allowed)),
            limit=bucket.burst,
            remaining=max(0, math.floor(float(rest[2 * i]))),
            retry_after=float(rest[2 * i + 1]) if not int(allowed) else 0.0,
        )
        for i, bucket in enumerate(buckets)
    ]
