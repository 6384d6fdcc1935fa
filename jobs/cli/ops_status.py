"""Operator commands that read Redis (and storage) directly, no API key needed:

* ``darkroom status [--json] [--watch]`` — queue depths, in flight, delayed, dead letters, live
  workers, images by status, the oldest processing image, the last hour's jobs per queue;
  ``--watch`` reprints it every few seconds until Ctrl-C;
* ``darkroom requeue-dead [--queues …] [--limit N] [--list]`` — replay (or list) dead letters;
* ``darkroom probe worker|api`` — health probe for Kubernetes/Docker: exit 0 healthy, 1 not;
* ``darkroom reindex [--dry-run]`` — rebuild Redis records from the storage sidecars;
* ``darkroom dashboard-link [--account A]`` — a short-lived login link for ``/dashboard``.

Nothing here imports the API or prometheus_client at import time (``darkroom worker`` loads
this module in the pool's master process, before the metrics directory is set).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table

from jobs.cli.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from jobs.cli.output import err, print_json
from jobs.cli.targets import announce_targets, require_local_storage
from jobs.contract.constants import NAMESPACE, Queue
from jobs.contract.errors import ConfigError, InvalidRequest
from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends, run_with_backends
from jobs.plumbing.store.errors import redis_errors
from jobs.runtime.logs import configure_logging
from jobs.services.admin.dead_letters import Replayer, list_dead
from jobs.services.admin.reindex import reindex
from jobs.services.admin.stats import Snapshot, read_snapshot
from jobs.services.admin.trends import Trends, read_trends
from jobs.services.admin.workers import heartbeat_ttl_ms, live_workers

T = TypeVar("T")


def with_redis(settings: Settings, use: Callable[[Redis], Awaitable[T]]) -> T:
    """Run ``use(redis)`` on a fresh loop; log lines go to stderr so stdout stays pure JSON."""
    configure_logging(settings, process="cli")
    announce_targets(settings)

    async def run() -> T:
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=10)
        try:
            with redis_errors():
                return await use(redis)
        finally:
            await redis.aclose()

    return asyncio.run(run())


def with_backends(settings: Settings, use: Callable[[Backends], Awaitable[T]]) -> T:
    """:func:`with_redis`, with the storage, store and queue too (the :class:`Backends`)."""
    configure_logging(settings, process="cli")
    announce_targets(settings)

    async def guarded(backends: Backends) -> T:
        with redis_errors():
            return await use(backends)

    return run_with_backends(settings, guarded, socket_connect_timeout=3, socket_timeout=10)


def parse_queues(names: list[str] | None) -> list[Queue]:
    try:
        return [Queue.parse(n) for n in names] if names else list(Queue)
    except ValueError as exc:
        raise InvalidRequest(str(exc), field="--queues") from exc


# --- status -------------------------------------------------------------------------------------------


def status_tables(snapshot: Snapshot) -> list[Table]:
    queues = Table(title="Queues")
    for column in ("queue", "ready", "in flight", "delayed", "dead letters", "workers"):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    for q in snapshot.queues:
        queues.add_row(q.short, str(q.ready), str(q.in_flight), str(q.delayed), str(q.dead), str(q.workers))
    workers = Table(title=f"Live workers ({len(snapshot.workers)})")
    for column in ("host", "pid", "queues", "threads", "last beat"):
        workers.add_column(column)
    for w in snapshot.workers:
        names = ", ".join(q.removeprefix(f"{NAMESPACE}.") for q in w.queues)
        workers.add_row(w.host, str(w.pid), names, str(w.threads), f"{w.age_s(snapshot.at_ms):.1f} s ago")
    images = Table(title="Images")
    images.add_column("status")
    images.add_column("count", justify="right")
    if snapshot.images is not None:
        for name, count in sorted(snapshot.images.by_status.items()):
            images.add_row(name, str(count))
    oldest = snapshot.oldest_processing
    if oldest is not None:
        images.caption = f"oldest processing: {oldest.image_id} ({oldest.account}), {oldest.age_s:.0f} s old"
    return [queues, workers, images]


def trends_table(trends: Trends) -> Table:
    """The dashboard's charts as numbers: per queue, this minute, the last hour, p50/p95."""
    table = Table(title="Last hour (jobs finished per queue)")
    for column in ("queue", "done/min", "failed/min", "done 1h", "failed 1h", "p50 1h", "p95 1h"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for t in trends.queues:
        now = t.minutes[-1]
        p50, p95 = t.hour_quantile(0.5), t.hour_quantile(0.95)
        table.add_row(
            t.short,
            str(now.done),
            str(now.failed),
            str(t.done),
            str(t.failed),
            "-" if p50 is None else f"{p50:.3f} s",
            "-" if p95 is None else f"{p95:.3f} s",
        )
    return table


async def read_status(redis: Redis, settings: Settings) -> tuple[Snapshot, Trends]:
    return await read_snapshot(redis, settings), await read_trends(redis, time.time())


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    if args.watch:
        return watch_status(settings, args.interval, args.iterations)
    snapshot, trends = with_redis(settings, lambda r: read_status(r, settings))
    if args.json:
        print_json({**snapshot.as_dict(), "trends": trends.as_dict()})
    else:
        out = Console(highlight=False)
        for table in [*status_tables(snapshot), trends_table(trends)]:
            out.print(table)
    return EXIT_OK


def watch_status(settings: Settings, interval: float, iterations: int | None) -> int:
    """Reprint the status every ``interval`` s (``iterations`` times, for tests); Ctrl-C exits 0."""
    out = Console(highlight=False)

    async def loop(redis: Redis) -> None:
        done = 0
        while iterations is None or done < iterations:
            snapshot, trends = await read_status(redis, settings)
            if out.is_terminal:
                out.clear()
            out.print(f"darkroom status · every {interval:g} s (Ctrl-C stops)")
            for table in [*status_tables(snapshot), trends_table(trends)]:
                out.print(table)
            done += 1
            if iterations is None or done < iterations:
                await asyncio.sleep(interval)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a watch ends
        with_redis(settings, loop)
    return EXIT_OK


# --- dead letters -------------------------------------------------------------------------------------


def cmd_requeue_dead(settings: Settings, args: argparse.Namespace) -> int:
    queues = parse_queues(args.queues)
    if args.list:

        async def listing(redis: Redis) -> list[dict[str, Any]]:
            return [d.as_dict() for q in queues for d in await list_dead(redis, q, args.limit or 100)]

        print_json(with_redis(settings, listing))
        return EXIT_OK

    async def replay(b: Backends) -> dict[str, object]:
        report = await Replayer(settings, b.redis, b.storage, b.queue).requeue(queues, args.limit)
        return report.as_dict()

    report = with_backends(settings, replay)
    print_json(report)
    return EXIT_FAILED if report["errors"] else EXIT_OK


# --- probe --------------------------------------------------------------------------------------------


def cmd_probe(settings: Settings, args: argparse.Namespace) -> int:
    if args.target == "api":
        url = (args.url or settings.client_base_url).rstrip("/") + "/health/live"
        try:
            ok = httpx.get(url, timeout=args.timeout).status_code == 200
        except httpx.HTTPError as exc:
            err.print(f"probe api: {url}: {type(exc).__name__}")
            return EXIT_FAILED
        return EXIT_OK if ok else EXIT_FAILED
    host = args.host or socket.gethostname()
    wanted = {q.value for q in parse_queues(args.queues)} if args.queues else set()
    ttl_ms = int(args.max_age * 1000) if args.max_age else heartbeat_ttl_ms(settings)
    workers = with_redis(settings, lambda r: live_workers(r, ttl_ms))
    mine = [w for w in workers if w.host == host]
    covered = {q for w in mine for q in w.queues}
    missing = sorted(wanted - covered)
    healthy = bool(mine) and not missing
    print_json({"healthy": healthy, "host": host, "workers": len(mine), "missing_queues": missing})
    return EXIT_OK if healthy else EXIT_FAILED


# --- reindex and the dashboard link -------------------------------------------------------------------


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    require_local_storage(settings)

    async def run(b: Backends) -> dict[str, object]:
        return (await reindex(b.store, b.storage, dry_run=args.dry_run)).as_dict()

    report = with_backends(settings, run)
    print_json(report)
    if not report["scanned"]:  # rebuilding from nothing is the wrong storage, not a success
        err.print(f"darkroom reindex: no image records (records/*.json) in {settings.storage_url}")
        return EXIT_USAGE
    return EXIT_FAILED if report["invalid"] else EXIT_OK


def cmd_dashboard_link(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.api.dashboard_auth import Viewer, issue  # the API package imports prometheus_client

    if args.account is not None:
        if args.account not in settings.accounts():
            raise InvalidRequest(f"No API key belongs to account {args.account!r}.", field="--account")
        viewer = Viewer("account", args.account)
    elif settings.admin_key.get_secret_value():
        viewer = Viewer("operator", None)
    else:
        raise ConfigError("DARKROOM_ADMIN_KEY", "not set (set it, or pass --account).")
    token = issue(settings, viewer, use="login", ttl_s=args.ttl)
    print(f"{settings.client_base_url.rstrip('/')}/dashboard/login?token={token}")
    return EXIT_OK


def add_ops_status_commands(sub: Any) -> None:
    status = sub.add_parser("status", help="queue depths, workers, images by status (read from Redis)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--watch", action="store_true", help="reprint every few seconds until Ctrl-C")
    status.add_argument("--interval", type=float, default=5.0, help="--watch: seconds between prints")
    status.add_argument("--iterations", type=int, default=None, help=argparse.SUPPRESS)  # tests
    status.set_defaults(handler=cmd_status)

    dead = sub.add_parser("requeue-dead", help="replay dead-lettered jobs (or --list them)")
    dead.add_argument("--queues", "-Q", nargs="+", metavar="QUEUE", help="only these queues (default: all)")
    dead.add_argument("--limit", type=int, default=None, help="at most N per queue")
    dead.add_argument("--list", action="store_true", help="only list them")
    dead.set_defaults(handler=cmd_requeue_dead)

    probe = sub.add_parser("probe", help="health probe: exit 0 healthy, 1 unhealthy")
    probe.add_argument("target", choices=["worker", "api"])
    probe.add_argument("--host", help="worker: heartbeats of this host (default: this hostname)")
    probe.add_argument("--queues", "-Q", nargs="+", metavar="QUEUE", help="worker: these must be consumed")
    probe.add_argument("--max-age", type=float, default=None, help="worker: seconds a beat stays fresh")
    probe.add_argument("--url", help="api: base URL (default: DARKROOM_API_URL or HTTP_HOST:HTTP_PORT)")
    probe.add_argument("--timeout", type=float, default=3.0)
    probe.set_defaults(handler=cmd_probe)

    re = sub.add_parser("reindex", help="rebuild Redis image records from storage (records/*.json)")
    re.add_argument("--dry-run", action="store_true", help="read and validate the sidecars only")
    re.set_defaults(handler=cmd_reindex)

    link = sub.add_parser("dashboard-link", help="print a short-lived login link for /dashboard")
    link.add_argument("--account", help="an account viewer instead of an operator")
    link.add_argument("--ttl", type=float, default=600.0, help="seconds the link stays valid")
    link.set_defaults(handler=cmd_dashboard_link)
