"""Requeue the unacked messages of dead workers, on a schedule instead of by chance.

Dramatiq's Redis broker moves a dead worker's fetched-but-unacked messages back to their
queue only during "maintenance", which each broker command triggers with a 0.1 % chance.
After a SIGKILL that can take many minutes. This runs the same maintenance (Dramatiq's own
``dispatch.lua``, through :func:`jobs.plumbing.dramatiq_compat.run_maintenance`) for every queue and
delay queue, every quarter of ``HEARTBEAT_TIMEOUT_MS``, so a dead worker's jobs restart
within about that timeout.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker

from jobs.contract.constants import Queue
from jobs.plumbing.dramatiq_compat import delay_queue_name, run_maintenance


def requeue_dead_workers(broker: RedisBroker) -> None:
    for queue in Queue:
        for name in (queue.value, delay_queue_name(queue.value)):
            run_maintenance(broker, name)
