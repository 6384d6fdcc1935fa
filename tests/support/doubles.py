"""Small test doubles shared across test modules."""

from __future__ import annotations

from typing import Any

from jobs.payloads import JobPayload


class RecordingQueue:
    """Stands in for :class:`jobs.queue.JobQueue`: remembers what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[JobPayload] = []

    async def asend(self, job: JobPayload, **_: Any) -> str:
        self.sent.append(job)
        return job.job_id
