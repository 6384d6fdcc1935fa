"""``darkroom fsck``: storage objects no record owns, and records whose objects are missing.

Jobs and the API clean up after themselves (a refused upload, a job that lost its image),
but a process killed between a write and the record that owns it leaves an object behind.
This finds what slipped through, on local storage and S3 alike, in bounded memory:

1. every object under the layout's prefixes is streamed (``Storage.scan``) and judged in
   batches of ``BATCH`` against the records of their ids (one Redis pipeline per batch), by
   the ownership rules of :mod:`jobs.services.ownership`;
2. every record is streamed from Redis (``SCAN``) in batches, and the objects it must have
   are checked with ``head``.

Problems, each reported once as it is found (the caller streams them out, nothing piles up):

* ``orphan`` — an object no record owns; ``repair`` removes it, after checking once more
  against the record as it is at that moment;
* ``missing`` — an object a record needs that storage does not have;
* ``unindexed`` — objects of an id Redis has no record of, but whose sidecar exists: Redis
  lost it (``darkroom reindex`` restores it) or a delete was cut short. Never removed;
* ``foreign`` — a key under the layout's prefixes that no image id names. Never removed.

Objects written and records changed within ``grace_s`` are not judged: a job may be between
its write and its record right now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Final, cast

import structlog
from redis.asyncio import Redis

from jobs.contract.constants import NAMESPACE, image_key, record_key
from jobs.contract.ids import is_image_id
from jobs.plumbing.storage import ObjectInfo, Storage
from jobs.plumbing.store import ImageStore, Record
from jobs.plumbing.store.errors import redis_errors
from jobs.services.ownership import LAYOUT_PREFIXES, expected_keys, owns, parse_key

log = structlog.get_logger(__name__)
BATCH: Final = 500  # objects (or records) judged per Redis round trip
CONCURRENCY: Final = 16  # storage calls at once
SUMMARY_KEY: Final = f"{NAMESPACE}:fsck:last"  # the scheduler's last report, for /metrics
KINDS: Final = ("orphan", "missing", "unindexed", "foreign")
EVERY_KIND: Final = frozenset({"original", "record", "images", "derived", "public"})
ORIGINALS_ONLY: Final = frozenset({"original"})  # the scheduler's sweep of staged originals


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # one of KINDS
    key: str
    image_id: str | None
    repaired: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class FsckReport:
    objects: int = 0
    records: int = 0
    recent: int = 0  # objects and records within the grace period, not judged
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    repaired: int = 0

    @property
    def remaining(self) -> int:
        """Problems still there after the run (repaired orphans are not)."""
        return sum(self.found.values()) - self.repaired

    def as_dict(self) -> dict[str, object]:
        return {
            "objects": self.objects,
            "records": self.records,
            "recent": self.recent,
            **self.found,
            "repaired": self.repaired,
            "clean": self.remaining == 0,
        }


Report = Callable[[Problem], None]


class Fsck:
    def __init__(
        self,
        store: ImageStore,
        storage: Storage,
        *,
        grace_s: float,
        repair: frozenset[str] = frozenset(),
        on_problem: Report | None = None,
    ) -> None:
        """``repair``: the kinds of object (``jobs.services.ownership.ObjectKey.kind``) whose orphans are
        removed; empty: report only."""
        self.store = store
        self.storage = storage
        self.repair = repair
        self.on_problem = on_problem or (lambda problem: None)
        self.cutoff = time.time() - grace_s
        self.report = FsckReport()
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def run(self) -> FsckReport:
        for prefix in LAYOUT_PREFIXES:
            batch: list[ObjectInfo] = []
            async for info in self.storage.scan(prefix):
                self.report.objects += 1
                if info.modified is None or info.modified > self.cutoff:
                    self.report.recent += 1
                    continue
                batch.append(info)
                if len(batch) >= BATCH:
                    await self._judge_objects(batch)
                    batch = []
            await self._judge_objects(batch)
        await self._check_records()
        log.info("fsck.done", **self.report.as_dict())
        return self.report

    # --- storage → records -------------------------------------------------------------------------

    async def _judge_objects(self, batch: list[ObjectInfo]) -> None:
        ids = sorted({p.image_id for info in batch if (p := parse_key(info.key)) and is_image_id(p.image_id)})
        records = dict(zip(ids, await self.store.load_many(ids), strict=True))
        unrecorded = [i for i in ids if records[i] is None]
        sidecars = dict(
            zip(unrecorded, await asyncio.gather(*map(self._has_sidecar, unrecorded)), strict=True)
        )
        orphans: list[str] = []
        for info in batch:
            parsed = parse_key(info.key)
            if parsed is None or not is_image_id(parsed.image_id):
                self._found(Problem("foreign", info.key, None))
                continue
            record = records[parsed.image_id]
            if record is not None and owns(record, info.key):
                continue
            if record is None and sidecars[parsed.image_id]:
                self._found(Problem("unindexed", info.key, parsed.image_id))
                continue
            orphans.append(info.key)
        await asyncio.gather(*map(self._orphan, orphans))

    async def _orphan(self, key: str) -> None:
        parsed = parse_key(key)
        assert parsed is not None
        if parsed.kind not in self.repair:
            self._found(Problem("orphan", key, parsed.image_id))
            return
        async with self.gate:
            # judged from a batch read: the record may have changed since (a retry re-owns it)
            now = (await self.store.load_many([parsed.image_id]))[0]
            if now is not None and owns(now, key):
                return
            if now is None and await self._has_sidecar(parsed.image_id):
                self._found(Problem("unindexed", key, parsed.image_id))
                return
            await self.storage.delete(key)
        self.report.repaired += 1
        self._found(Problem("orphan", key, parsed.image_id, repaired=True))

    async def _has_sidecar(self, image_id: str) -> bool:
        async with self.gate:
            return await self.storage.head(record_key(image_id)) is not None

    # --- records → storage -------------------------------------------------------------------------

    async def _check_records(self) -> None:
        batch: list[str] = []
        with redis_errors():
            async for raw in self.store.redis.scan_iter(match=image_key("*"), count=BATCH):
                batch.append(cast(bytes, raw).decode().removeprefix(image_key("")))
                if len(batch) >= BATCH:
                    await self._judge_records(batch)
                    batch = []
            await self._judge_records(batch)

    async def _judge_records(self, ids: list[str]) -> None:
        records = [r for r in await self.store.load_many(ids) if r is not None]
        self.report.records += len(records)
        judged = [r for r in records if r.image.updated_at.timestamp() <= self.cutoff]
        self.report.recent += len(records) - len(judged)
        await asyncio.gather(*(self._check_record(r) for r in judged))

    async def _check_record(self, record: Record) -> None:
        for key in expected_keys(record):
            async with self.gate:
                found = await self.storage.head(key)
            if found is None:
                self._found(Problem("missing", key, record.id))

    def _found(self, problem: Problem) -> None:
        self.report.found[problem.kind] += 1
        self.on_problem(problem)


async def save_summary(redis: Redis, report: FsckReport, at: float) -> None:
    """The scheduler's last run, read back by every ``/metrics`` scrape."""
    fields = {kind: report.found[kind] - (report.repaired if kind == "orphan" else 0) for kind in KINDS}
    fields |= {"repaired": report.repaired}
    with redis_errors():
        await redis.hset(SUMMARY_KEY, items=[*(x for pair in fields.items() for x in pair), "at", at])


async def read_summary(redis: Redis) -> dict[str, float] | None:
    with redis_errors():
        raw = cast(dict[bytes, bytes], await redis.hgetall(SUMMARY_KEY))
    return {k.decode(): float(v) for k, v in raw.items()} or None
