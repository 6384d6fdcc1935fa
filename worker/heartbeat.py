"""Worker heartbeats: every worker process announces itself in Redis while it runs.

Format and TTL are described in :mod:`jobs.services.admin.workers` (the readers: ``darkroom status``,
``darkroom probe worker``, ``/dashboard``, ``darkroom_workers_live``). The loop runs on
Dramatiq's event loop as one of ``ctx.tasks``: a stuck loop stops the beats, which is
exactly what the Kubernetes probe should notice. On a clean shutdown the worker leaves at
once instead of waiting out the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from datetime import UTC, datetime
from typing import Any

import structlog

from jobs import __version__
from jobs.plumbing.dramatiq_compat import broker_id, worker_queues, worker_threads
from jobs.runtime.cancellation import raise_if_cancelled
from jobs.services.admin.workers import WorkerBeat, beat, heartbeat_ttl_ms, leave
from worker.context import WorkerContext

log = structlog.get_logger(__name__)
LEAVE_TIMEOUT_S = 2.0


def describe_worker(broker: Any, worker: Any) -> WorkerBeat:
    """This process as a heartbeat: its broker id, host, pids, consumed queues and threads."""
    queues = worker_queues(worker) or broker.get_declared_queues()
    return WorkerBeat(
        id=broker_id(broker),
        host=socket.gethostname(),
        pid=os.getpid(),
        pool=os.getppid(),
        queues=tuple(sorted(q for q in queues if not q.endswith(".DQ"))),
        threads=worker_threads(worker),
        version=__version__,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


async def run_heartbeat(ctx: WorkerContext, me: WorkerBeat) -> None:
    ttl_ms = heartbeat_ttl_ms(ctx.settings)
    interval = ctx.settings.worker_heartbeat_interval
    log.info("worker.heartbeat_start", worker_id=me.id, queues=list(me.queues), ttl_ms=ttl_ms)
    try:
        while True:
            try:
                await beat(ctx.redis, me, ttl_ms)
            except Exception as exc:  # Redis blip: beat again next time; readers use the TTL
                log.warning("worker.heartbeat_failed", error=str(exc)[:200])
            raise_if_cancelled()
            await asyncio.sleep(interval)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(LEAVE_TIMEOUT_S):
                await leave(ctx.redis, me.id)
        raise
