"""``darkroom webhook-secret [--rotate]``: your account's webhook signing secret, over the API.

Without ``--rotate`` it prints where the secret stands (generation, last rotation, the
previous secret's overlap), never the secret. ``--rotate`` makes a new one and prints it,
once: that is also how a one-account deployment gets the secret its receiver verifies with.
"""

from __future__ import annotations

import argparse
from typing import Any

from jobs.cli.commands import EXIT_OK, client_for
from jobs.cli.output import err, print_json
from jobs.contract.settings import Settings


def cmd_webhook_secret(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        report = client.rotate_webhook_secret() if args.rotate else client.webhook_secret()
    print_json(report)
    if args.rotate:
        err.print("shown once: store it where your webhook receiver reads its secret")
    if report.get("previous_valid_until"):
        err.print(
            f"deliveries carry the previous secret's signature too until {report['previous_valid_until']}"
        )
    return EXIT_OK


def add_webhook_secret_commands(sub: Any) -> None:
    command = sub.add_parser("webhook-secret", help="your webhook signing secret: its state, or --rotate")
    command.add_argument(
        "--rotate",
        action="store_true",
        help="make a new secret and print it (the old one signs too for a while)",
    )
    command.set_defaults(handler=cmd_webhook_secret)
