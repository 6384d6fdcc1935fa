"""Where ``Idempotency-Key`` answers are kept: one Redis string per (account, key).

``darkroom:idem:{account}:{hash}`` holds JSON: ``{"state": "pending", "fingerprint"}`` while
the first request runs (``SET NX``, expiring after ``PENDING_TTL_S`` so a crashed request
frees its key), then ``{"state": "done", "status", "headers", "body", "fingerprint"}`` for
``TTL_S``. What a key means for HTTP is decided by :mod:`jobs.api.idempotency`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis

from jobs.contract.constants import idempotency_key
from jobs.plumbing.store.errors import redis_errors

TTL_S: Final = 24 * 3600
PENDING_TTL_S: Final = 300  # a crashed first request frees its key after this long


def slot_key(account: str, key: str) -> str:
    """The Redis key of ``account``'s Idempotency-Key ``key`` (hashed: any length, any bytes)."""
    return idempotency_key(account, hashlib.sha256(key.encode()).hexdigest()[:32])


@dataclass(frozen=True, slots=True)
class IdempotencySlots:
    redis: Redis

    async def claim(self, slot: str, fingerprint: str) -> dict[str, Any] | None:
        """Mark ``slot`` pending for this request; None if it was free, else what it holds."""
        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        with redis_errors():
            claimed = await self.redis.set(slot, pending, nx=True, ex=PENDING_TTL_S)
            existing: Any = None if claimed else await self.redis.get(slot)
        if existing is None:
            return None
        saved: dict[str, Any] = json.loads(existing)
        return saved

    async def release(self, slot: str) -> None:
        """Free ``slot``: nothing happened that a retry would duplicate."""
        with redis_errors():
            await self.redis.delete(slot)

    async def keep(self, slot: str, answer: dict[str, Any]) -> None:
        """Store the finished request's ``answer`` for replays."""
        with redis_errors():
            await self.redis.set(slot, json.dumps(answer), ex=TTL_S)
