"""The status of one purge: written ``queued`` by the API, ``done`` by the worker, read by the API.

``darkroom:purge:{purge_id}`` holds a JSON object (``state``, ``account``, ``scope``, and
once done ``objects``, ``urls``, ``at``) for ``PURGE_TTL_S``. The ``queued`` status is
written *before* the job is sent, so a fast worker's ``done`` is never overwritten.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from jobs.contract.constants import PURGE_TTL_S, purge_key
from jobs.contract.errors import NotFound
from jobs.contract.models import utcnow
from jobs.plumbing.store.errors import redis_errors

MAX_ID_CHARS = 64  # purge ids are tokens; a longer one in a URL names no purge


async def _write(redis: Redis, purge_id: str, status: dict[str, Any]) -> None:
    with redis_errors():
        await redis.set(purge_key(purge_id), json.dumps(status), ex=PURGE_TTL_S)


async def write_queued(redis: Redis, purge_id: str, account: str, scope: str) -> None:
    """The purge was accepted and its job is about to be sent."""
    await _write(redis, purge_id, {"state": "queued", "account": account, "scope": scope})


async def write_done(
    redis: Redis, purge_id: str, account: str, scope: str, *, objects: int, urls: int
) -> None:
    """The worker ran the purge: how many cached objects it removed and URLs it purged."""
    status = {
        "state": "done",
        "account": account,
        "scope": scope,
        "objects": objects,
        "urls": urls,
        "at": utcnow().isoformat(),
    }
    await _write(redis, purge_id, status)


async def read_status(redis: Redis, account: str, purge_id: str) -> dict[str, Any]:
    """What ``account``'s purge did, without the account; NotFound for another account's,
    an expired or an unknown purge."""
    with redis_errors():
        raw = await redis.get(purge_key(purge_id[:MAX_ID_CHARS]))
    status: dict[str, Any] = json.loads(raw) if raw is not None else {}
    if status.get("account") != account:
        raise NotFound("No such purge.")
    return {k: v for k, v in status.items() if k != "account"}
