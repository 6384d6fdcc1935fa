"""``darkroom``: run the stack, run workers, and talk to the API.

Exit codes: 0 ok, 1 job failed (or the service failed), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import sys

from jobs.cli.commands import EXIT_FAILED, EXIT_USAGE, add_client_commands
from jobs.cli.lifecycle_commands import add_lifecycle_commands
from jobs.cli.ops import add_ops_commands
from jobs.cli.ops_status import add_ops_status_commands
from jobs.cli.output import err
from jobs.errors import DarkroomError
from jobs.settings import Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    from worker.cli import add_worker_arguments

    parser = argparse.ArgumentParser(prog="darkroom", description="Darkroom image-processing job queue.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="embedded stack: API + worker pool (+ a private redis-server if needed)")
    run.add_argument("--processes", type=int, default=2)
    run.add_argument("--threads", type=int, default=2)
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser("worker", help="run a worker pool")
    add_worker_arguments(worker)
    worker.set_defaults(handler=cmd_worker)

    api = sub.add_parser("api", help="run the HTTP API")
    api.set_defaults(handler=cmd_api)

    add_client_commands(sub)
    add_lifecycle_commands(sub)
    add_ops_commands(sub)
    add_ops_status_commands(sub)
    return parser


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.cli.services import run_embedded

    return run_embedded(settings, args.processes, args.threads)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from worker.cli import run_worker

    return run_worker(args)


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.cli.services import serve_api

    return serve_api(settings)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args))
    except DarkroomError as exc:
        err.print(f"[red]darkroom {args.command}: {exc.code}: {exc.message}[/red]")
        return EXIT_USAGE if 400 <= exc.status < 500 else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
