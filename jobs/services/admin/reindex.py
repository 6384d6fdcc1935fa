"""``darkroom reindex``: rebuild Redis image records from the ``records/{id}.json`` sidecars.

Every record write also writes its sidecar (docs/design.md §7), so storage alone can restore
Redis after a loss: each sidecar goes back through :meth:`ImageStore.restore` — the same
CAS script as every write, so indexes (account, names, deadlines, expiries) are rebuilt with
it and a record already in Redis at the same or a newer version is left alone. Safe to run
on a live system and to run twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from jobs.contract.constants import RECORDS_PREFIX
from jobs.contract.errors import ObjectNotFound
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore, Record

log = structlog.get_logger(__name__)
CONCURRENCY = 16


@dataclass
class ReindexReport:
    scanned: int = 0
    restored: int = 0
    unchanged: int = 0  # Redis already had this version or a newer one
    invalid: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "scanned": self.scanned,
            "restored": self.restored,
            "unchanged": self.unchanged,
            "invalid": self.invalid,
        }


async def reindex(store: ImageStore, storage: Storage, *, dry_run: bool = False) -> ReindexReport:
    report = ReindexReport()
    keys = [o.key for o in await storage.list(RECORDS_PREFIX) if o.key.endswith(".json")]
    report.scanned = len(keys)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(key: str) -> None:
        async with gate:
            try:
                record = Record.from_sidecar(await storage.get(key))
            except ObjectNotFound:
                return  # deleted meanwhile
            except Exception as exc:
                report.invalid.append(key)
                log.warning("reindex.invalid_sidecar", key=key, error=str(exc)[:200])
                return
            if dry_run:
                report.restored += 1
                return
            if await store.restore(record):
                report.restored += 1
            else:
                report.unchanged += 1

    await asyncio.gather(*(one(key) for key in keys))
    log.info("reindex.done", **report.as_dict() | {"invalid": len(report.invalid)}, dry_run=dry_run)
    return report
