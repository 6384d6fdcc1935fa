"""The actors: one per job kind, each a thin shell around its pipeline function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq

from jobs.contract.payloads import (
    BlockJob,
    DeleteJob,
    ExpireJob,
    JobPayload,
    PublishJob,
    PurgeJob,
    RefreshJob,
    RenderJob,
    TransformJob,
    UnpublishJob,
    UploadJob,
    WebhookJob,
)
from jobs.contract.settings import Settings
from worker.pipeline.block import run_block
from worker.pipeline.delete import run_delete, run_expire
from worker.pipeline.publish import run_publish, run_unpublish
from worker.pipeline.purge import run_purge
from worker.pipeline.refresh import run_refresh
from worker.pipeline.render import run_render
from worker.pipeline.transform import run_transform
from worker.pipeline.upload import run_upload
from worker.pipeline.webhook import WEBHOOK_ACTOR_OPTIONS, run_webhook
from worker.runner import job_actor

ACTORS: dict[type[JobPayload], Callable[[dict[str, Any]], None]] = {
    UploadJob: job_actor(run_upload),
    RefreshJob: job_actor(run_refresh),
    TransformJob: job_actor(run_transform),
    RenderJob: job_actor(run_render),
    PublishJob: job_actor(run_publish),
    UnpublishJob: job_actor(run_unpublish),
    PurgeJob: job_actor(run_purge),
    DeleteJob: job_actor(run_delete),
    ExpireJob: job_actor(run_expire),
    BlockJob: job_actor(run_block),
    WebhookJob: job_actor(run_webhook),
}


def declare_actors(broker: dramatiq.Broker, settings: Settings) -> None:
    for payload, fn in ACTORS.items():
        # webhooks retry for ~WEBHOOK_RETRY_HOURS on their own schedule; everything else uses the broker's
        options = WEBHOOK_ACTOR_OPTIONS(settings) if payload is WebhookJob else {}
        dramatiq.actor(broker=broker, actor_name=payload.kind, queue_name=payload.queue.value, **options)(fn)
