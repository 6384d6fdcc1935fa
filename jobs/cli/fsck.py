"""``darkroom fsck [--repair] [--grace S]``: storage against records (:mod:`jobs.services.admin.fsck`).

Prints one JSON line per problem as it is found (``{"kind", "key", "image_id", "repaired"}``)
and a last line ``{"summary": {...}}``, so a store of millions of objects never piles up in
memory or in one document. Exit codes: 0 clean (or every problem found was repaired),
1 problems remain, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from jobs.cli.commands import EXIT_FAILED, EXIT_OK
from jobs.cli.targets import announce_targets
from jobs.contract.errors import InvalidRequest
from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends, run_with_backends
from jobs.runtime.logs import configure_logging
from jobs.services.admin.fsck import EVERY_KIND, Fsck, FsckReport, Problem


def print_line(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")
    sys.stdout.flush()


def print_problem(problem: Problem) -> None:
    print_line(problem.as_dict())


def cmd_fsck(settings: Settings, args: argparse.Namespace) -> int:
    grace = settings.fsck_grace if args.grace is None else args.grace
    if grace < 0:
        raise InvalidRequest("--grace must be 0 or more seconds.", field="grace")
    configure_logging(settings, process="cli")  # log lines to stderr: stdout stays JSON lines
    announce_targets(settings)

    async def run(backends: Backends) -> FsckReport:
        repair = EVERY_KIND if args.repair else frozenset()
        fsck = Fsck(backends.store, backends.storage, grace_s=grace, repair=repair, on_problem=print_problem)
        return await fsck.run()

    report = run_with_backends(settings, run, socket_connect_timeout=3, socket_timeout=30)
    print_line({"summary": report.as_dict()})
    return EXIT_OK if report.remaining == 0 else EXIT_FAILED


def add_fsck_command(sub: Any) -> None:
    fsck = sub.add_parser(
        "fsck",
        help="list storage objects no record owns and records whose objects are missing (exit 1: problems)",
    )
    fsck.add_argument("--repair", action="store_true", help="remove the orphans (after --grace)")
    fsck.add_argument(
        "--grace", type=float, default=None, metavar="SECONDS",
        help="judge only objects older than this (default: FSCK_GRACE)",
    )  # fmt: skip
    fsck.set_defaults(handler=cmd_fsck)
