"""Undo an upload that was answered 503 although Redis may have written its record.

Redis can apply a write and die before its reply leaves: with ``appendfsync always`` the
reply waits for the fsync, so on a busy disk that window is milliseconds wide, not a rarity.
The request then fails, the record may exist, and nobody can tell until Redis answers again.
Deleting the staged original at once would leave such a record failing ``not_found``;
keeping it would leave an image the caller was told does not exist.

So the refusal is resolved later, off the request: once Redis answers, a record under the
id (freshly made by the refused request, so nobody else's) is deleted and its storage swept
by a ``delete`` job, exactly as ``DELETE /v1/images/{id}`` does; the staged original and
sidecar go either way. An upload answered 503 leaves nothing behind, and its job — which
only the reaper could have sent, after ``STUCK_AFTER`` — finds its image gone.

Pending undos live in this process. If it stops first, what they would have removed is
an object no record owns or an image nobody was told about; ``darkroom fsck`` lists both.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from jobs.contract.constants import record_key
from jobs.contract.errors import NotFound, Unavailable
from jobs.contract.ids import new_token
from jobs.contract.payloads import DeleteJob
from jobs.plumbing.queue import JobSender
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore, Record
from jobs.services.publication import public_urls

log = structlog.get_logger(__name__)
GIVE_UP_AFTER_S = 600.0  # longer than any Redis restart worth riding out
FIRST_PAUSE_S, MAX_PAUSE_S = 0.1, 2.0


class Rollbacks:
    """The undos this process still owes; one per refused upload whose record is unknown."""

    def __init__(
        self, store: ImageStore, storage: Storage, queue: JobSender, *, give_up_after: float = GIVE_UP_AFTER_S
    ) -> None:
        self.store = store
        self.storage = storage
        self.queue = queue
        self.give_up_after = give_up_after
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def discard(self, staged: str | None) -> None:
        """Delete an object of an upload that was refused (its staged original, its sidecar)."""
        if staged is None:
            return
        try:
            await self.storage.delete(staged)
        except Exception as exc:  # storage down too: fsck's sweep removes it after FSCK_GRACE
            log.warning("intake.staged_original_kept", key=staged, error=str(exc)[:200])
            return
        log.info("intake.refused_object_removed", key=staged)

    def start(self, record: Record, staged: str | None) -> None:
        """Undo ``record`` (refused, its creation unknown) once Redis answers again."""
        log.info("intake.rollback_pending", image_id=record.id)
        task = asyncio.get_running_loop().create_task(self._undo(record, staged))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until every pending undo is done (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace: float = 5.0) -> None:
        """Let pending undos finish for up to ``grace`` seconds (Redis is usually back), then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _undo(self, refused: Record, staged: str | None) -> None:
        try:
            async with asyncio.timeout(self.give_up_after):
                await self._resolve(refused)
        except TimeoutError:
            log.warning("intake.rollback_abandoned", image_id=refused.id)
            return
        await self.discard(staged)
        await self.discard(record_key(refused.id))

    async def _resolve(self, refused: Record) -> None:
        """Delete the refused image's record if Redis has it, retrying while Redis is down."""
        pause = FIRST_PAUSE_S
        while True:
            try:
                current = await self.store.load(refused.id)
                await self.store.delete(refused.id)
                break
            except NotFound:
                return
            except Unavailable:
                await asyncio.sleep(pause)
                pause = min(MAX_PAUSE_S, pause * 2)
        log.warning("intake.refused_upload_rolled_back", image_id=refused.id, status=current.status.value)
        with contextlib.suppress(Unavailable):  # its objects stay for fsck to find
            await self.queue.asend(
                DeleteJob(
                    image_id=refused.id,
                    account=current.account,
                    job_id=new_token(),
                    public_urls=public_urls(current.image),
                    original_checksum=current.extra.get("original_checksum"),
                )
            )
