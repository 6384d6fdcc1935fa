"""Client commands for existing images: publish, unpublish, delete, refresh, sign, warmup, purge.

``purge-status`` reads what a purge did (``GET /v1/purge/{purge_id}``), optionally waiting for
a worker to run it.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from jobs.cli.commands import EXIT_FAILED, EXIT_OK, client_for, exit_code_for, parse_json_object
from jobs.cli.output import err, image_dict, print_json
from jobs.client import Client
from jobs.contract.constants import OUTPUT_FORMATS
from jobs.contract.errors import InvalidRequest
from jobs.contract.settings import Settings

# What ``darkroom purge`` prints; also keeps the id a single, literal path segment.
PURGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
PURGE_DONE = "done"
POLL_INTERVAL_S = 0.2


def cmd_image_action(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        image = getattr(client, args.action)(args.id)
    print_json(image_dict(image))
    return exit_code_for([image])


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        client.delete(args.id)
    print_json({"id": args.id, "deleted": True})
    return EXIT_OK


def cmd_sign(settings: Settings, args: argparse.Namespace) -> int:
    operations = [parse_json_object(raw, "--op") for raw in args.op or []]
    with client_for(settings) as client:
        url = client.render_url(args.id, operations, args.format)
    print(url)
    return EXIT_OK


def cmd_warmup(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        print_json(client.warmup(args.urls))
    return EXIT_OK


def purge_targets(args: argparse.Namespace) -> tuple[str | None, list[str] | None]:
    """(image id, urls) from ``--image``/``--urls`` or the positional form ``purge image ID``."""
    given: list[str] = args.targets
    if args.scope == "image":
        if len(given) > 1 or (given and args.image and given != [args.image]):
            raise InvalidRequest("purge image takes one image id: `darkroom purge image ID`.", field="ID")
        return args.image or (given[0] if given else None), None
    if args.scope == "urls":
        return None, [*(args.urls or []), *given] or None
    if given:
        raise InvalidRequest("purge all takes no ids or URLs.", field="scope")
    return None, None


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    image_id, urls = purge_targets(args)
    with client_for(settings) as client:
        purge_id = client.purge(args.scope, image_id=image_id, urls=urls)
    print_json({"purge_id": purge_id, "scope": args.scope})
    return EXIT_OK


def poll_purge(client: Client, purge_id: str, wait_s: float) -> dict[str, Any]:
    """The purge's status; with ``wait_s`` > 0, polled until it is done or the time runs out."""
    deadline = time.monotonic() + wait_s
    status = client.purge_status(purge_id)
    while status.get("state") != PURGE_DONE and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(POLL_INTERVAL_S, left))
        status = client.purge_status(purge_id)
    return status


def cmd_purge_status(settings: Settings, args: argparse.Namespace) -> int:
    if not PURGE_ID.fullmatch(args.purge_id):
        raise InvalidRequest("PURGE_ID is the purge_id printed by `darkroom purge`.", field="PURGE_ID")
    if args.wait < 0:
        raise InvalidRequest("--wait must be zero or more seconds.", field="--wait")
    with client_for(settings) as client:
        status = poll_purge(client, args.purge_id, args.wait)
    print_json(status)
    if args.wait and status.get("state") != PURGE_DONE:
        err.print(f"purge still {status.get('state')} after {args.wait:g}s")
        return EXIT_FAILED
    return EXIT_OK


def add_lifecycle_commands(sub: Any) -> None:
    for action, text in (
        ("publish", "publish an image (public URL + sizes)"),
        ("unpublish", "unpublish an image (public URLs removed, CDN purged)"),
        ("refresh", "re-fetch a URL-sourced image; reprocess if it changed"),
    ):
        parser = sub.add_parser(action, help=text)
        parser.add_argument("id")
        parser.set_defaults(handler=cmd_image_action, action=action)

    delete = sub.add_parser("delete", help="delete an image and every stored object of it")
    delete.add_argument("id")
    delete.set_defaults(handler=cmd_delete)

    sign = sub.add_parser("sign", help="print a signed render URL")
    sign.add_argument("id")
    sign.add_argument("--op", action="append", metavar="JSON", help="operation (repeatable)")
    sign.add_argument("--format", default="webp", choices=OUTPUT_FORMATS)
    sign.set_defaults(handler=cmd_sign)

    warmup = sub.add_parser("warmup", help="pre-render render URLs")
    warmup.add_argument("urls", nargs="+", metavar="URL")
    warmup.set_defaults(handler=cmd_warmup)

    purge = sub.add_parser("purge", help="invalidate cached derivatives")
    purge.add_argument("scope", choices=["image", "urls", "all"])
    purge.add_argument(
        "targets", nargs="*", metavar="ID|URL", help="the image id (image) or render URLs (urls)"
    )
    purge.add_argument("--image", help="image id (scope image)")
    purge.add_argument("--urls", nargs="+", metavar="URL", help="render URLs (scope urls)")
    purge.set_defaults(handler=cmd_purge)

    purge_status = sub.add_parser("purge-status", help="show what a purge did (queued until a worker ran it)")
    purge_status.add_argument("purge_id", metavar="PURGE_ID")
    purge_status.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="poll until the purge is done; exit 1 if it is not done by then",
    )
    purge_status.set_defaults(handler=cmd_purge_status)
