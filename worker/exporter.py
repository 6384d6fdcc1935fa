"""The worker pool's Prometheus exporter: one HTTP endpoint per pool, like Dramatiq's.

Dramatiq's CLI forks N worker processes; each writes its metric values to files in a
shared ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client multiprocess mode, as Dramatiq's
own Prometheus middleware does). :func:`serve_metrics` runs in one extra process that the
CLI forks for the ``Metrics`` middleware (``Middleware.forks``); it listens on
``DARKROOM_METRICS_HOST:DARKROOM_METRICS_PORT`` and answers ``GET /metrics`` with the
aggregate of every process of the pool — Dramatiq's ``dramatiq_*`` metrics and Darkroom's
``darkroom_*`` ones — plus the system gauges read from Redis at scrape time.

Nothing in this module imports prometheus_client at import time: the pool's master
imports it (via ``worker.cli``) before the directory is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import structlog
from redis.asyncio import Redis

from jobs.contract.settings import Settings, load_settings
from jobs.runtime.logs import configure_logging
from jobs.services.admin.stats import Snapshot, read_snapshot

ENV = "PROMETHEUS_MULTIPROC_DIR"
log = structlog.get_logger(__name__)


@contextlib.contextmanager
def pool_metrics_dir(environ: MutableMapping[str, str]) -> Iterator[str]:
    """Around a pool's life (``darkroom worker``): a clean directory for its metrics files.

    An ops-provided ``PROMETHEUS_MULTIPROC_DIR`` (a k8s ``emptyDir``, a systemd
    ``RuntimeDirectory``) is emptied of stale ``*.db`` files from a previous run, as
    prometheus_client requires; without one, a temporary directory is created and removed
    when the pool stops.
    """
    given = environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="darkroom-metrics-") as created:
        environ[ENV] = created
        try:
            yield created
        finally:
            environ.pop(ENV, None)


def metrics_dir(settings: Settings) -> str:
    """The pool's directory: the environment's, else one per pool master (for a bare ``dramatiq`` CLI).

    Worker processes and the exporter are all children of the master, so ``getppid()``
    names the same directory in each of them. That name is predictable, so it lives in the
    data directory (``{data}/.metrics/{ppid}``, ``0700``), never in the shared temp
    directory where another user could create it first. Without local storage there is no
    such place: each process gets its own ``mkdtemp`` directory, and the pool's exporter
    sees only its own metrics (set ``PROMETHEUS_MULTIPROC_DIR``, or run ``darkroom worker``).
    """
    found = os.environ.get(ENV)
    if not found:
        if settings.storage_scheme == "file":
            found = str(settings.local_storage_root / ".metrics" / str(os.getppid()))
        else:
            found = tempfile.mkdtemp(prefix="darkroom-metrics-")
            log.warning("metrics.unshared_dir", directory=found, hint=f"set {ENV} for pool-wide metrics")
        os.environ[ENV] = found
    Path(found).mkdir(mode=0o700, parents=True, exist_ok=True)
    return found


def scrape(settings: Settings) -> bytes:
    from jobs.services.admin.metrics import exposition

    snapshot: Snapshot | None
    try:
        snapshot = asyncio.run(_snapshot(settings))
    except Exception as exc:  # Redis down: process metrics still answer, darkroom_redis_up 0
        log.warning("metrics.redis_unavailable", error=str(exc)[:200])
        snapshot = None
    return exposition(snapshot)


async def _snapshot(settings: Settings) -> Snapshot:
    redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    try:
        return await read_snapshot(redis, settings, images=False)
    finally:
        await redis.aclose()


def serve_metrics() -> int:
    """Fork target: serve the pool's metrics until the pool stops."""
    from worker.middleware.die_with_pool import die_with_pool_master

    die_with_pool_master()  # a fork process has no broker, hence no after_process_boot
    settings = load_settings()
    configure_logging(settings, process="metrics")
    metrics_dir(settings)
    from jobs.services.admin.metrics import CONTENT_TYPE_LATEST

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in {"/metrics", "/"}:
                self.send_error(404)
                return
            body = scrape(settings)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("metrics.request", line=format % args)

    try:
        server = ThreadingHTTPServer((settings.metrics_host, settings.metrics_port), Handler)
    except OSError as exc:
        log.error(
            "metrics.bind_failed", host=settings.metrics_host, port=settings.metrics_port, error=str(exc)
        )
        return 1
    log.info("metrics.listening", host=settings.metrics_host, port=settings.metrics_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
