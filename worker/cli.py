"""``darkroom worker`` / ``python -m worker``: a worker pool on top of the Dramatiq CLI."""

from __future__ import annotations

import argparse
import os
import sys

from jobs.contract.constants import Queue
from jobs.contract.errors import ConfigError
from jobs.contract.settings import load_settings
from worker.app import BROKER_REF
from worker.exporter import pool_metrics_dir


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--processes",
        "-p",
        type=int,
        default=default_processes(),
        help="worker processes (default: CPU cores)",
    )
    parser.add_argument(
        "--threads",
        "-t",
        type=int,
        default=2,
        help="threads per process (default: 2: one job images while the other reads and writes, "
        "IMAGING_CONCURRENCY=1 keeps the imaging to one core per process; give I/O pools such as "
        "webhooks more)",
    )
    parser.add_argument(
        "--queues",
        "-Q",
        nargs="+",
        default=None,
        metavar="QUEUE",
        help="only these queues, e.g. upload transform (default: all)",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        default=30.0,
        help="seconds to finish in-flight jobs on SIGTERM before requeueing them",
    )


def dramatiq_argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "dramatiq", BROKER_REF,
        "--processes", str(args.processes),
        "--threads", str(args.threads),
        "--skip-logging",
        "--worker-shutdown-timeout", str(int(args.shutdown_timeout * 1000)),
    ]  # fmt: skip
    if args.queues:
        argv += ["--queues", *(Queue.parse(q).value for q in args.queues)]
    return argv


def run_worker(args: argparse.Namespace) -> int:
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    try:
        argv = dramatiq_argv(args)
    except ValueError as exc:
        print(f"darkroom worker: {exc}", file=sys.stderr)
        return 2
    with pool_metrics_dir(os.environ):  # one clean multiprocess-metrics directory per pool
        return int(dramatiq_main(make_argument_parser().parse_args(argv[1:])) or 0)


def worker_parser() -> argparse.ArgumentParser:
    """``python -m worker``'s arguments (``darkroom worker`` runs it with the same ones)."""
    parser = argparse.ArgumentParser(prog="python -m worker", description="Run a Darkroom worker pool.")
    add_worker_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = worker_parser()
    args = parser.parse_args(argv)
    try:
        load_settings()  # a wrong setting is named here, not in a traceback of every worker process
    except ConfigError as exc:
        print(f"{parser.prog}: {exc.message}", file=sys.stderr)
        return 2
    return run_worker(args)
