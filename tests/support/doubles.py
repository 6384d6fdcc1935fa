"""Small test doubles shared across test modules."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker

from jobs.payloads import JobPayload
from jobs.queue import JobQueue


class RecordingQueue(JobQueue):
    """A :class:`jobs.queue.JobQueue` that remembers what it would have sent instead of sending it."""

    def __init__(self) -> None:
        super().__init__(StubBroker(middleware=[]))
        self.sent: list[JobPayload] = []

    def send(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        self.sent.append(job)
        return job.job_id

    async def asend(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        return self.send(job, delay_ms=delay_ms)
