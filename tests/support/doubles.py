"""Small test doubles shared across test modules."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker

from jobs.contract.payloads import JobPayload
from jobs.plumbing.queue import JobQueue


class RecordingQueue(JobQueue):
    """A :class:`jobs.plumbing.queue.JobQueue` that remembers what it would have sent, and sends nothing."""

    def __init__(self) -> None:
        super().__init__(StubBroker(middleware=[]))
        self.sent: list[JobPayload] = []

    def send(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        self.sent.append(job)
        return job.job_id

    async def asend(self, job: JobPayload, *, delay_ms: int | None = None) -> str:
        return self.send(job, delay_ms=delay_ms)
