"""The webhook attempt log of an image: one record type, written by the worker, read by the API.

``darkroom:webhooks:{image_id}`` is a Redis list of JSON attempts, newest first, at most
``WEBHOOK_ATTEMPTS_MAX`` entries, kept ``WEBHOOK_ATTEMPTS_TTL_S`` after the last one.
The worker's ``webhook`` actor appends one per delivery attempt
(``worker/pipeline/webhook.py``); ``GET /v1/images/{id}/webhooks`` lists them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import structlog
from pydantic import TypeAdapter
from redis.asyncio import Redis

from jobs.contract.constants import WEBHOOK_ATTEMPTS_MAX, WEBHOOK_ATTEMPTS_TTL_S, webhook_attempts_key
from jobs.plumbing.store.errors import redis_errors

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as stored in Redis and served by the API."""

    delivery_id: str
    event: str
    url: str
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool


ATTEMPT: TypeAdapter[Attempt] = TypeAdapter(Attempt)


async def _raw(redis: Redis, image_id: str) -> list[bytes | str]:
    with redis_errors():
        raw: list[bytes | str] = await redis.lrange(
            webhook_attempts_key(image_id), 0, WEBHOOK_ATTEMPTS_MAX - 1
        )
    return raw


async def read_attempts(redis: Redis, image_id: str) -> list[Attempt]:
    """The image's attempts, newest first (Redis down → BrokerUnavailable).

    A foreign or corrupt entry is skipped: it never breaks the listing.
    """
    attempts: list[Attempt] = []
    for item in await _raw(redis, image_id):
        try:
            attempts.append(ATTEMPT.validate_json(item))
        except ValueError:  # pydantic's ValidationError is one
            continue
    return attempts


async def previous_attempts(redis: Redis, image_id: str, delivery_id: str) -> int:
    """How many attempts of ``delivery_id`` are already recorded (Redis down → BrokerUnavailable)."""
    count = 0
    for item in await _raw(redis, image_id):
        try:
            count += json.loads(item).get("delivery_id") == delivery_id
        except (ValueError, AttributeError):
            continue
    return count


async def record_attempt(redis: Redis, image_id: str, attempt: Attempt) -> None:
    """Prepend ``attempt``; keep the newest 100 for 7 days. Never raises (logged instead)."""
    key = webhook_attempts_key(image_id)
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(asdict(attempt)))
            pipe.ltrim(key, 0, WEBHOOK_ATTEMPTS_MAX - 1)
            pipe.expire(key, WEBHOOK_ATTEMPTS_TTL_S)
            await pipe.execute()
    except Exception as exc:  # bookkeeping must not change the delivery's outcome
        log.warning("webhook.attempt_unrecorded", error=str(exc), delivery_id=attempt.delivery_id)
