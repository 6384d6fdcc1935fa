"""``darkroom``: run the stack, run workers, and talk to the API.

Exit codes: 0 ok, 1 job failed (or the service failed, including an API or Redis that cannot
be reached), 2 bad usage or input, or a setting that is wrong (``darkroom: DARKROOM_…: what is
wrong with it``).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from rich.markup import escape

from jobs.cli.commands import EXIT_FAILED, EXIT_USAGE, add_client_commands
from jobs.cli.lifecycle_commands import add_lifecycle_commands
from jobs.cli.local_data import local_settings
from jobs.cli.ops import add_ops_commands
from jobs.cli.ops_status import add_ops_status_commands
from jobs.cli.output import err
from jobs.cli.webhook_secret_command import add_webhook_secret_commands
from jobs.contract.errors import ConfigError, DarkroomError
from jobs.contract.settings import Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="darkroom", description="Darkroom image-processing job queue.")
    parser.add_argument("--version", action="version", version=f"darkroom {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="embedded stack: API + worker pool (+ a private redis-server if needed)")
    run.add_argument("--processes", type=int, default=2)
    run.add_argument("--threads", type=int, default=2)
    run.set_defaults(handler=cmd_run)

    # the pool parses its own arguments (``python -m worker --help``): see exec_worker
    # no option prefix: every word after `worker`, `--queues` and `-h` included, is the pool's
    worker = sub.add_parser(
        "worker", help="run a worker pool (python -m worker)", add_help=False, prefix_chars="\0"
    )
    worker.add_argument("pool_args", nargs="*", help=argparse.SUPPRESS)
    worker.set_defaults(handler=cmd_worker)

    api = sub.add_parser("api", help="run the HTTP API")
    api.set_defaults(handler=cmd_api)

    add_client_commands(sub)
    add_lifecycle_commands(sub)
    add_ops_commands(sub)
    add_ops_status_commands(sub)
    add_webhook_secret_commands(sub)
    return parser


def installed_version() -> str:
    try:
        return version("darkroom")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.cli.services import run_embedded

    return run_embedded(settings, args.processes, args.threads)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    return exec_worker(args.pool_args)


def exec_worker(pool_args: list[str]) -> int:
    """``darkroom worker ARGS`` is ``python -m worker ARGS``, in this process (exec).

    The CLI composes the processes of a deployment without importing the worker: ``jobs``
    never imports ``worker`` (an import-linter contract), and the pool keeps one parser.
    """
    argv = [sys.executable, "-m", "worker", *pool_args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter and module, no shell)
    return EXIT_FAILED  # not reached: execv replaces this process or raises


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.cli.services import serve_api

    return serve_api(settings)


SERVICES = {"run", "api", "worker"}  # they configure themselves; the others read data/ (local_data)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
        if args.command not in SERVICES:  # a client of the stack `darkroom run` started here
            settings = local_settings(settings, create=False)
        return int(args.handler(settings, args))
    except ConfigError as exc:  # the operator's mistake, not a failure: name the setting to fix
        err.print(f"[red]darkroom: {escape(exc.message)}[/red]", soft_wrap=True)
        return EXIT_USAGE
    except DarkroomError as exc:
        err.print(f"[red]darkroom {args.command}: {exc.code}: {escape(exc.message)}[/red]")
        return EXIT_USAGE if 400 <= exc.status < 500 else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
