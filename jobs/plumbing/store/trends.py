"""Per-queue, per-minute job counts and durations in Redis: the dashboard's charts.

One hash per queue and minute, ``darkroom:stats:{queue}:{minute}`` (``minute`` = Unix
minutes), with fields ``done``, ``failed`` and ``d:{i}``: how many jobs finished in duration
bucket ``i`` of :data:`BOUNDS_S`. A fixed bucket set makes p50/p95 computable from counts
(as Prometheus histograms do) while each hash stays at most ``2 + len(BOUNDS_S)`` fields;
every key expires :data:`KEEP_S` after its minute, so memory is bounded by
queues × 65 minutes × 45 fields whatever the traffic, and every API replica reads the same
numbers.

The worker writes with the broker's synchronous client (its hooks run on worker threads);
the API reads with its async client.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Final

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from jobs.contract.constants import queue_trend_key as stats_key

KEEP_S: Final = 65 * 60  # an hour of charts plus a little slack for clock skew between hosts
# Upper bounds (seconds) of the duration buckets: 5 ms .. 10 min, ~1.36x apart; one more
# bucket (index len(BOUNDS_S)) holds everything slower.
BOUNDS_S: Final[tuple[float, ...]] = tuple(round(0.005 * 1.36**i, 4) for i in range(39))


def bucket_of(duration_s: float) -> int:
    return bisect.bisect_left(BOUNDS_S, duration_s)


def record_job(redis: SyncRedis, queue: str, at_s: float, outcome: str, duration_s: float) -> None:
    """Count one finished job (``outcome`` ``done`` or ``failed``) and its duration; one round trip."""
    key = stats_key(queue, int(at_s // 60))
    pipe = redis.pipeline(transaction=False)
    pipe.hincrby(key, outcome, 1)
    pipe.hincrby(key, f"d:{bucket_of(duration_s)}", 1)
    pipe.expire(key, KEEP_S)
    pipe.execute()


@dataclass(frozen=True, slots=True)
class Minute:
    minute: int  # Unix minutes
    done: int
    failed: int
    buckets: dict[int, int]  # bucket index -> jobs

    def quantile(self, q: float) -> float | None:
        return quantile(self.buckets, q)


def quantile(buckets: dict[int, int], q: float) -> float | None:
    """The ``q`` quantile of a bucketed distribution, interpolated inside its bucket; None: no jobs."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index in sorted(buckets):
        count = buckets[index]
        if count and seen + count >= rank:
            low = BOUNDS_S[index - 1] if 0 < index <= len(BOUNDS_S) else 0.0
            high = BOUNDS_S[index] if index < len(BOUNDS_S) else BOUNDS_S[-1] * 2
            fraction = (rank - seen) / count
            return low + (high - low) * min(1.0, max(0.0, fraction))
        seen += count
    return BOUNDS_S[-1] * 2  # pragma: no cover - rank <= total always lands above


def _minute(minute: int, raw: dict[bytes, bytes]) -> Minute:
    fields = {k.decode(): int(v) for k, v in raw.items()}
    buckets = {int(k[2:]): v for k, v in fields.items() if k.startswith("d:") and k[2:].isdigit()}
    return Minute(minute, fields.get("done", 0), fields.get("failed", 0), buckets)


async def read_minutes(
    redis: Redis, queues: list[str], last_minute: int, minutes: int
) -> dict[str, list[Minute]]:
    """Each queue's ``minutes`` minutes ending with ``last_minute``, oldest first, in one pipeline."""
    span = range(last_minute - minutes + 1, last_minute + 1)
    pipe = redis.pipeline(transaction=False)
    for queue in queues:
        for minute in span:
            pipe.hgetall(stats_key(queue, minute))
    replies = iter(await pipe.execute())
    return {queue: [_minute(minute, next(replies)) for minute in span] for queue in queues}


def merged(minutes: list[Minute]) -> dict[int, int]:
    """The buckets of several minutes added together (an hour's p50/p95)."""
    total: dict[int, int] = {}
    for m in minutes:
        for index, count in m.buckets.items():
            total[index] = total.get(index, 0) + count
    return total


def finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)
