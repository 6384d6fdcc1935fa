"""Operator commands that talk to Redis directly (no API key): blocklist, fsck."""

from __future__ import annotations

import argparse
import re
from typing import Any

from jobs.cli.commands import EXIT_OK
from jobs.cli.fsck import add_fsck_command
from jobs.cli.output import print_json
from jobs.cli.targets import announce_targets
from jobs.contract.constants import BLOCKLIST_KEY
from jobs.contract.errors import InvalidRequest
from jobs.contract.ids import new_token
from jobs.contract.payloads import BlockJob
from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends, run_with_backends
from jobs.plumbing.store.errors import redis_errors

SHA256 = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})$")


def parse_checksum(raw: str) -> str:
    match = SHA256.match(raw.strip())
    if match is None:
        raise InvalidRequest("Expected a SHA-256 hex digest (optionally prefixed sha256:).", field="SHA256")
    return match.group(2).lower()


def cmd_block(settings: Settings, args: argparse.Namespace) -> int:
    checksum = parse_checksum(args.checksum)

    async def block(backends: Backends) -> bool:
        with redis_errors():
            added = await backends.redis.sadd(BLOCKLIST_KEY, checksum)
        await backends.queue.asend(BlockJob(job_id=new_token(), checksum=checksum))
        return bool(added)

    announce_targets(settings)
    added = run_with_backends(settings, block)
    print_json({"checksum": checksum, "blocked": True, "new": added})
    return EXIT_OK


def cmd_unblock(settings: Settings, args: argparse.Namespace) -> int:
    checksum = parse_checksum(args.checksum)

    async def unblock(backends: Backends) -> bool:
        with redis_errors():
            return bool(await backends.redis.srem(BLOCKLIST_KEY, checksum))

    announce_targets(settings)
    removed = run_with_backends(settings, unblock)
    print_json({"checksum": checksum, "blocked": False, "was_blocked": removed})
    return EXIT_OK


def add_ops_commands(sub: Any) -> None:
    block = sub.add_parser("block", help="block an original's SHA-256: refuse uploads, fail existing images")
    block.add_argument("checksum", metavar="SHA256")
    block.set_defaults(handler=cmd_block)
    unblock = sub.add_parser(
        "unblock", help="remove a SHA-256 from the blocklist (failed images stay failed)"
    )
    unblock.add_argument("checksum", metavar="SHA256")
    unblock.set_defaults(handler=cmd_unblock)
    add_fsck_command(sub)
