"""Requeue the unacked messages of dead workers, on a schedule instead of by chance.

Dramatiq's Redis broker moves a dead worker's fetched-but-unacked messages back to their
queue only during "maintenance", which each broker command triggers with a 0.1 % chance.
After a SIGKILL that can take many minutes. This runs the same maintenance (Dramatiq's own
``dispatch.lua``, ``do_maintenance=1``) for every queue and delay queue, every quarter of
``HEARTBEAT_TIMEOUT_MS``, so a dead worker's jobs restart within about that timeout.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name

from jobs.constants import Queue


def requeue_dead_workers(broker: RedisBroker) -> None:
    dispatch = broker.scripts["dispatch"]
    unpack = broker._max_unpack_size()
    for queue in Queue:
        for name in (queue.value, dq_name(queue.value)):
            dispatch(
                keys=[broker.namespace],
                args=[
                    "qsize",  # a read-only command; the maintenance block runs first
                    current_millis(),
                    name,
                    broker.broker_id,
                    broker.heartbeat_timeout,
                    broker.dead_message_ttl,
                    1,  # do_maintenance
                    unpack,
                ],
            )
