"""Which job owns a ``processing`` image, and taking an image for a job.

A ``processing`` record names the job that owns it (``record.job``, with the reaper's
deadline). Only that job may finish or fail the image (:func:`owned_by`); anything else is
a late or duplicate delivery. Putting an image into ``processing`` for a job — a refresh
that found new bytes, a dead letter replayed, the reaper re-sending a stuck job — is one
compare-and-set (:func:`claim_for_job`): of two racing claims exactly one wins, and the
loser sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs.contract.states import Status
from jobs.plumbing.store.image_store import ImageStore
from jobs.plumbing.store.records import Record


def owned_by(record: Record, job_id: str | None) -> bool:
    """``record`` is processing for the job ``job_id``."""
    return record.status == Status.PROCESSING and record.job_id == job_id


async def claim_for_job(
    store: ImageStore,
    image_id: str,
    job: dict[str, Any],
    deadline: float,
    *,
    when: Callable[[Record], bool],
    extra: Callable[[Record], dict[str, Any]] | None = None,
) -> Record | None:
    """Make ``job`` (its message args) the owner of ``image_id``, processing until ``deadline``.

    Applied only if ``when(current record)`` holds, atomically with the check; ``extra`` sets
    internal facts from the current record. Returns the claimed record, or None if the
    image was not claimable or another claim got there first. NotFound if it is gone.
    """

    def change(current: Record) -> Record | None:
        if not when(current):
            return None
        claimed = current.evolve(status=Status.PROCESSING, error=None).with_job(job, deadline)
        return claimed.with_extra(**extra(current)) if extra is not None else claimed

    updated = await store.update(image_id, change)
    won = updated.job_id == str(job.get("job_id")) and updated.deadline == deadline
    return updated if won else None
