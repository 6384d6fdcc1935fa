"""The last hour per queue, as the dashboard charts and ``darkroom status --watch`` show it:
jobs done and failed per minute, p50/p95 job duration per minute and over the hour.

Read from the per-minute hashes the workers write (:mod:`jobs.plumbing.store.trends`), so
every API replica and the CLI see the same numbers. Queue trends are shared by every viewer,
like the queue depths: a queue is not any one account's.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from jobs.contract.constants import Queue
from jobs.plumbing.store.trends import Minute, finite, merged, quantile, read_minutes

WINDOW_MINUTES = 60


@dataclass(frozen=True, slots=True)
class QueueTrend:
    queue: str
    minutes: list[Minute]  # oldest first, one per minute of the window (empty minutes included)

    @property
    def short(self) -> str:
        return self.queue.removeprefix("darkroom.")

    @property
    def done(self) -> int:
        return sum(m.done for m in self.minutes)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.minutes)

    def hour_quantile(self, q: float) -> float | None:
        return finite(quantile(merged(self.minutes), q))

    def as_dict(self) -> dict[str, object]:
        return {
            "queue": self.queue,
            "done": self.done,
            "failed": self.failed,
            "p50_s": self.hour_quantile(0.5),
            "p95_s": self.hour_quantile(0.95),
            "minutes": [
                {
                    "minute": m.minute * 60,
                    "done": m.done,
                    "failed": m.failed,
                    "p50_s": finite(m.quantile(0.5)),
                    "p95_s": finite(m.quantile(0.95)),
                }
                for m in self.minutes
            ],
        }


@dataclass(frozen=True, slots=True)
class Trends:
    at_s: float
    queues: list[QueueTrend]

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at_s,
            "window_minutes": WINDOW_MINUTES,
            "queues": [q.as_dict() for q in self.queues],
        }


async def read_trends(redis: Redis, now_s: float, minutes: int = WINDOW_MINUTES) -> Trends:
    """Every queue's last ``minutes`` minutes up to and including the current one."""
    names = [q.value for q in Queue]
    read = await read_minutes(redis, names, int(now_s // 60), minutes)
    return Trends(now_s, [QueueTrend(name, read[name]) for name in names])
