"""Dead letters: messages Dramatiq gave up on (retries exhausted), listed and replayed.

Replaying (``darkroom requeue-dead``, the dashboard's button) claims each dead letter
atomically (``claim_dead.lua``) and sends it again with a fresh retry budget:

* jobs that own an image (upload, transform): the image was failed when Dramatiq gave up,
  so the replay moves it ``failed → processing`` under a *new* job id (the state machine's
  retry edge, version-guarded) and enqueues that job. If the image is gone, ready, or
  processing for another job, the dead letter is dropped: newer state always wins.
  If the image is still processing for this very job (the give-up was never recorded),
  the job is simply sent again.
* every other job (publish, purge, delete, webhook, …) is idempotent: sent again as is.

A message whose replay fails half-way is put back into the dead-letter set.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, cast

import dramatiq
import structlog
from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.contract.errors import DarkroomError, NotFound
from jobs.contract.ids import new_token
from jobs.contract.payloads import PAYLOADS, ImageJob, parse_payload
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.dramatiq_compat import last_traceback, retries_so_far
from jobs.plumbing.queue import JobQueue
from jobs.plumbing.storage import Storage
from jobs.plumbing.store import ImageStore
from jobs.plumbing.store.claims import claim_for_job, owned_by
from jobs.services.admin.keys import canonical_queue, dead_key, dead_messages_key
from jobs.services.admin.workers import now_ms
from jobs.services.intake import Intake
from jobs.services.rollback import Rollbacks

log = structlog.get_logger(__name__)
_CLAIM = resources.files("jobs.services.admin").joinpath("claim_dead.lua").read_text()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    queue: str
    redis_id: str
    actor: str
    dead_at_ms: int
    payload: dict[str, Any]
    retries: int
    reason: str | None  # last line of the last recorded traceback, if Dramatiq kept one

    @property
    def image_id(self) -> str | None:
        value = self.payload.get("image_id")
        return value if isinstance(value, str) else None

    @property
    def account(self) -> str | None:
        value = self.payload.get("account")
        return value if isinstance(value, str) else None

    def as_dict(self) -> dict[str, object]:
        return {
            "queue": self.queue,
            "id": self.redis_id,
            "actor": self.actor,
            "image_id": self.image_id,
            "account": self.account,
            "dead_at_ms": self.dead_at_ms,
            "retries": self.retries,
            "reason": self.reason,
        }


def _decode(queue: str, redis_id: str, score: float, data: bytes) -> DeadLetter:
    try:
        body = json.loads(data)
    except ValueError:
        body = {}
    options = body.get("options") or {}
    args = body.get("args") or []
    traceback = last_traceback(options)
    return DeadLetter(
        queue=queue,
        redis_id=redis_id,
        actor=str(body.get("actor_name", "?")),
        dead_at_ms=int(score),
        payload=args[0] if args and isinstance(args[0], dict) else {},
        retries=retries_so_far(options),
        reason=traceback.splitlines()[-1][:500] if traceback else None,
    )


async def list_dead(redis: Redis, queue: Queue, limit: int = 50) -> list[DeadLetter]:
    """The newest ``limit`` dead letters of ``queue``."""
    raw_rows = await redis.zrevrange(dead_key(queue), 0, limit - 1, withscores=True)
    rows = cast(list[tuple[bytes, float]], raw_rows)
    if not rows:
        return []
    bodies = cast(list[bytes | None], await redis.hmget(dead_messages_key(queue), [r for r, _ in rows]))
    return [
        _decode(queue.value, raw.decode(), score, body)
        for (raw, score), body in zip(rows, bodies, strict=True)
        if body is not None
    ]


@dataclass
class RequeueReport:
    requeued: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def total_requeued(self) -> int:
        return sum(self.requeued.values())

    def as_dict(self) -> dict[str, object]:
        return {"requeued": self.requeued, "dropped": self.dropped, "errors": self.errors}


class Replayer:
    def __init__(self, settings: Settings, redis: Redis, storage: Storage, queue: JobQueue) -> None:
        self.redis = redis
        self.queue = queue
        self.store = ImageStore(redis, storage)
        self.intake = Intake(settings, self.store, storage, queue, Rollbacks(self.store, storage, queue))
        self._claim = redis.register_script(_CLAIM)

    async def requeue(self, queues: list[Queue], limit: int | None = None) -> RequeueReport:
        report = RequeueReport()
        for queue in queues:
            stop = -1 if limit is None else limit - 1
            ids = cast(list[bytes], await self.redis.zrange(dead_key(queue), 0, stop))
            for raw in ids:
                await self._one(queue, raw.decode(), report)
        return report

    async def _one(self, queue: Queue, redis_id: str, report: RequeueReport) -> None:
        data = await self._claim(keys=[dead_key(queue), dead_messages_key(queue)], args=[redis_id])
        if not data:
            return  # taken by a concurrent replay
        try:
            outcome = await self.replay(cast(bytes, data))
        except Exception as exc:
            await self._restore(queue, redis_id, cast(bytes, data))
            report.errors.append(f"{queue.short}/{redis_id}: {type(exc).__name__}: {exc}"[:300])
            log.warning("dead_letter.replay_failed", queue=queue.value, message_id=redis_id, error=str(exc))
            return
        bucket = report.requeued if outcome == "requeued" else report.dropped
        bucket[queue.short] = bucket.get(queue.short, 0) + 1
        log.info("dead_letter.replayed", queue=queue.value, message_id=redis_id, outcome=outcome)

    async def _restore(self, queue: Queue, redis_id: str, data: bytes) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(dead_messages_key(queue), redis_id, data)
            pipe.zadd(dead_key(queue), {redis_id: now_ms()})
            await pipe.execute()

    async def replay(self, data: bytes) -> str:
        """Send one dead message again; ``"requeued"`` or ``"dropped"``."""
        message = dramatiq.Message.decode(data)
        kind = PAYLOADS.get(message.actor_name)
        if kind is not None and issubclass(kind, ImageJob) and kind.owns_image:
            try:
                job = parse_payload(message.args[0] if message.args else None)
            except DarkroomError:
                return "dropped"
            assert isinstance(job, ImageJob)
            return await self._replay_owner(job)
        fresh: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=canonical_queue(message.queue_name),
            actor_name=message.actor_name,
            args=message.args,
            kwargs=message.kwargs,
            options={},
        )
        await asyncio.to_thread(self.queue.broker.enqueue, fresh)
        return "requeued"

    async def _replay_owner(self, job: ImageJob) -> str:
        try:
            record = await self.store.load(job.image_id)
        except NotFound:
            return "dropped"
        if owned_by(record, job.job_id):
            await self.queue.asend(job)
            return "requeued"
        if record.status != Status.FAILED:
            return "dropped"
        retry = job.model_copy(update={"job_id": new_token()})
        claimed = await claim_for_job(
            self.store,
            job.image_id,
            retry.to_message_args(),
            self.intake.deadline(),
            when=lambda current: current.status == Status.FAILED,
        )
        if claimed is None:
            return "dropped"
        await self.queue.asend(retry)
        return "requeued"
