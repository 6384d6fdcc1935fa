"""Image numbers for operators: counts by status, the oldest processing image, recent images
and recent failures — read from the records, their indexes and the ``darkroom:events`` stream.

Counts by status are exact and O(1): ``cas.lua``/``delete.lua`` keep the hash
``darkroom:stats:images`` in step with every transition and delete, in the same atomic step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from jobs.contract.constants import DEADLINES_KEY, EVENTS_KEY, IMAGE_COUNTS_KEY, account_images_key
from jobs.contract.states import Status
from jobs.plumbing.store import ImageStore, Record

OLDEST_CANDIDATES = 20
OLDEST_SCAN = 1_000  # deadlines one account's view reads at most, looking for its own images
EVENTS_WINDOW = 2_000


@dataclass(frozen=True, slots=True)
class ImageCounts:
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def image_counts(redis: Redis) -> ImageCounts:
    """Images by status (every status present, 0 when none)."""
    raw = cast(dict[bytes, bytes], await redis.hgetall(IMAGE_COUNTS_KEY))
    counts = {status.value: 0 for status in Status}
    counts.update({k.decode(): max(0, int(v)) for k, v in raw.items()})
    return ImageCounts(counts)


@dataclass(frozen=True, slots=True)
class OldestProcessing:
    image_id: str
    account: str
    created_at: str
    updated_at: str
    age_s: float

    def as_dict(self) -> dict[str, object]:
        return {
            "image_id": self.image_id,
            "account": self.account,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "age_s": round(self.age_s, 1),
        }


async def oldest_processing(redis: Redis, account: str | None = None) -> OldestProcessing | None:
    """Among the processing images closest to their reaper deadline, the one created first.

    With ``account``, only that account's images count: the deadlines (every account's) are
    read in pages until one holds an image of the account, ``OLDEST_SCAN`` at most, so an
    account's view never names another account's image.
    """
    scan = OLDEST_SCAN if account is not None else OLDEST_CANDIDATES
    for start in range(0, scan, OLDEST_CANDIDATES):
        ids = cast(list[bytes], await redis.zrange(DEADLINES_KEY, start, start + OLDEST_CANDIDATES - 1))
        records = await ImageStore(redis).load_many([raw.decode() for raw in ids])
        processing = [
            r
            for r in records
            if r is not None and r.status == Status.PROCESSING and account in (None, r.account)
        ]
        if processing:
            return _oldest(processing)
        if len(ids) < OLDEST_CANDIDATES:
            break
    return None


def _oldest(processing: list[Record]) -> OldestProcessing:
    oldest = min(processing, key=lambda r: r.image.created_at)
    return OldestProcessing(
        image_id=oldest.id,
        account=oldest.account,
        created_at=oldest.image.created_at.isoformat(),
        updated_at=oldest.image.updated_at.isoformat(),
        age_s=max(0.0, time.time() - oldest.image.created_at.timestamp()),
    )


async def recent_events(redis: Redis, count: int = EVENTS_WINDOW) -> list[dict[str, str]]:
    rows = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrevrange(EVENTS_KEY, count=count))
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in rows]


async def recent_accounts(redis: Redis, known: set[str]) -> set[str]:
    """Configured accounts plus any account active in the recent events."""
    return known | {e["account"] for e in await recent_events(redis) if e.get("account")}


async def recent_images(redis: Redis, accounts: set[str], limit: int) -> list[Record]:
    """The newest ``limit`` images over ``accounts`` (newest first), from their created_at indexes."""
    if not accounts or limit <= 0:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for account in sorted(accounts):
            pipe.zrevrange(account_images_key(account), 0, limit - 1, withscores=True)
        per_account = cast(list[list[tuple[bytes, float]]], await pipe.execute())
    merged = sorted((row for rows in per_account for row in rows), key=lambda row: -row[1])[:limit]
    records = await ImageStore(redis).load_many([raw.decode() for raw, _ in merged])
    return [r for r in records if r is not None]


async def recent_failures(redis: Redis, accounts: set[str] | None, limit: int) -> list[Record]:
    """Images that failed recently and are still failed (``accounts=None``: every account)."""
    ids: list[str] = []
    for event in await recent_events(redis):
        if event.get("status") != Status.FAILED.value or event.get("id") in ids:
            continue
        if accounts is not None and event.get("account") not in accounts:
            continue
        ids.append(event["id"])
        if len(ids) >= limit:
            break
    records = await ImageStore(redis).load_many(ids)
    return [r for r in records if r is not None and r.status == Status.FAILED]
