"""The scheduler's daily storage check: staged originals no record owns are swept, the rest is
reported, and ``/metrics`` exports the counts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from jobs.contract.constants import master_key, original_key
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.admin.metrics import exposition
from jobs.services.admin.stats import read_snapshot
from tests.support.pipeline import with_ctx
from worker.context import WorkerContext
from worker.scheduler import schedules, tick


def gauges(text: str) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("kind", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("darkroom_fsck")
    }


async def test_the_daily_check_sweeps_staged_originals_and_exports_its_counts(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(fsck_grace=0.0)

    async def body(ctx: WorkerContext) -> tuple[list[str], bool, bool, dict[tuple[str, str], float]]:
        refused = new_image_id()  # an upload refused between staging and its record
        await ctx.storage.put(original_key(refused), b"staged")
        ready = await ctx.store.create(
            Record(image=Image(id=new_image_id(), name="c", filename="c.jpg"), account="acme")
        )
        await ctx.store.update(ready.id, lambda r: r.evolve(status=Status.READY, format="jpeg"))
        await ctx.storage.put(original_key(ready.id), b"kept")  # its master is missing
        before = gauges(exposition(await read_snapshot(ctx.redis, settings), process_metrics=False).decode())
        await asyncio.sleep(0.05)  # the objects are older than the check (grace 0)

        fired = await tick(ctx, schedules(settings), "worker-1")
        await asyncio.gather(*ctx.tasks)  # the walk runs beside the scheduler loop
        gone = await ctx.storage.head(original_key(refused)) is None
        kept = await ctx.storage.head(original_key(ready.id)) is not None
        after = gauges(exposition(await read_snapshot(ctx.redis, settings), process_metrics=False).decode())
        assert before == {}  # never ran: nothing exported
        assert await ctx.storage.head(master_key(ready.id, "jpeg")) is None
        return fired, gone, kept, after

    fired, gone, kept, after = await with_ctx(settings, body)
    assert "fsck" in fired and gone and kept
    assert after[("darkroom_fsck_problems", "orphan")] == 0
    assert after[("darkroom_fsck_problems", "missing")] == 1
    assert after[("darkroom_fsck_repaired", "")] == 1
    assert after[("darkroom_fsck_last_run_timestamp_seconds", "")] > 0
