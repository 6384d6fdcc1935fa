"""Make real dead letters: enqueue a job and nack it exactly as Dramatiq does when it gives up."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from jobs.contract.payloads import JobPayload


def kill(broker: RedisBroker, job: JobPayload, **options: Any) -> None:
    """Enqueue ``job`` on its queue, fetch it and nack it: it lands in ``darkroom:{queue}.XQ``."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=job.queue.value,
        actor_name=job.kind,
        args=(job.to_message_args(),),
        kwargs={},
        options=options,
    )
    broker.enqueue(message)
    consumer = broker.consume(job.queue.value, prefetch=1)
    fetched = next(consumer)
    assert fetched is not None
    consumer.nack(fetched)
