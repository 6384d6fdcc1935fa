"""Client commands: upload, get, wait, list. They talk to the HTTP API like any producer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jobs.cli.output import err, image_dict, print_json, summary_table
from jobs.client import Client
from jobs.contract.constants import FORMAT_EXTENSIONS
from jobs.contract.errors import ConfigError, DarkroomError, InvalidRequest
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.contract.states import Status

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def client_for(settings: Settings) -> Client:
    key = settings.client_api_key
    if not key:
        raise ConfigError("DARKROOM_API_KEY", "no API key: set it (or a single key in DARKROOM_API_KEYS).")
    return Client(settings.client_base_url, key)


def exit_code_for(images: list[Image]) -> int:
    return EXIT_FAILED if any(i.status == Status.FAILED for i in images) else EXIT_OK


def parse_json_object(raw: str | None, what: str) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"{what} must be JSON: {exc.msg}", field=what) from exc
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a JSON object.", field=what)
    return value


def cmd_upload(settings: Settings, args: argparse.Namespace) -> int:
    urls = [f for f in args.files if f.lower().startswith(("http://", "https://"))]
    paths = [Path(p) for p in args.files if p not in urls]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InvalidRequest(f"No such file: {', '.join(missing)}", field="FILE")
    metadata = parse_json_object(args.metadata, "metadata")
    rows: list[tuple[str, Image | None, str | None]] = []
    errors: list[DarkroomError] = []
    with client_for(settings) as client, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    ) as progress:  # fmt: skip
        sources: list[str | Path] = [*paths, *urls]
        task = progress.add_task("uploading", total=len(sources) * (2 if args.wait else 1))
        for source in sources:
            options = {"name": args.name, "metadata": metadata, "publish": args.publish}
            try:
                if isinstance(source, Path):
                    image = client.upload(source, **options)
                else:
                    image = client.upload_url(source, **options)
                rows.append((str(source), image, None))
            except DarkroomError as exc:
                errors.append(exc)
                rows.append((str(source), None, f"{exc.code}: {exc.message}"))
            progress.advance(task)
        if args.wait:
            progress.update(task, description="processing")
            for i, (path_str, submitted, problem) in enumerate(rows):
                if submitted is not None:
                    rows[i] = (path_str, client.wait(submitted.id, args.timeout), problem)
                progress.advance(task)
    images = [image for _, image, _ in rows if image is not None]
    many = len(args.files) > 1
    print_json([image_dict(i) for i in images] if many else image_dict(images[0]) if images else [])
    if many or args.wait:
        err.print(summary_table(rows))
    for source, _, problem in rows:
        if problem is not None:  # one line each, like any failing command's (main)
            err.print(f"darkroom upload: {source}: {problem}", markup=False, soft_wrap=True)
    if errors:  # the same codes as one failing call (main): the service's fault 1, the input's 2
        return EXIT_FAILED if any(e.status >= 500 for e in errors) else EXIT_USAGE
    return exit_code_for(images) if args.wait else EXIT_OK


def cmd_transform(settings: Settings, args: argparse.Namespace) -> int:
    operations = [parse_json_object(raw, "--op") for raw in args.op]
    with client_for(settings) as client:
        image = client.transform(args.id, operations, name=args.name, publish=args.publish or None)
        if args.wait:
            image = client.wait(image.id, args.timeout)
    print_json(image_dict(image))
    return exit_code_for([image])


def cmd_download(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        data = client.download(args.id, size=args.size)
        output = args.output
        if output is None:
            ext = FORMAT_EXTENSIONS.get(client.get(args.id).format or "", "bin")
            output = f"{args.id}{'-' + args.size if args.size else ''}.{ext}"
    if output == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(output).write_bytes(data)
        err.print(f"wrote {len(data)} bytes to {output}")
    return EXIT_OK


def cmd_webhooks(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        print_json({"data": client.webhooks(args.id)})
    return EXIT_OK


def cmd_get(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        image = client.get(args.id)
    print_json(image_dict(image))
    return exit_code_for([image])


def cmd_wait(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        image = client.wait(args.id, args.timeout)
    print_json(image_dict(image))
    if image.status == Status.PROCESSING:
        err.print(f"still processing after {args.timeout:g}s")
        return EXIT_FAILED
    return exit_code_for([image])


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    with client_for(settings) as client:
        page = client.list(
            limit=args.limit, cursor=args.cursor, sort=args.sort, name=args.name, status=args.status
        )
    print_json({"data": [image_dict(i) for i in page.data], "next_cursor": page.next_cursor})
    return EXIT_OK


def add_client_commands(sub: Any) -> None:
    upload = sub.add_parser("upload", help="upload image files (or http(s) URLs)")
    upload.add_argument("files", nargs="+", metavar="FILE|URL")
    upload.add_argument("--wait", action="store_true", help="wait until each image is ready or failed")
    upload.add_argument("--publish", action="store_true", help="publish when ready")
    upload.add_argument("--name")
    upload.add_argument("--metadata", help="JSON object of your own fields")
    upload.add_argument("--timeout", type=float, default=120.0)
    upload.set_defaults(handler=cmd_upload)

    transform = sub.add_parser("transform", help="render an image through operations into a new image")
    transform.add_argument("id")
    transform.add_argument(
        "--op",
        action="append",
        required=True,
        metavar="JSON",
        help='e.g. \'{"op":"resize","width":300}\' (repeatable)',
    )
    transform.add_argument("--name")
    transform.add_argument("--publish", action="store_true")
    transform.add_argument("--wait", action="store_true")
    transform.add_argument("--timeout", type=float, default=120.0)
    transform.set_defaults(handler=cmd_transform)

    get = sub.add_parser("get", help="show one image")
    get.add_argument("id")
    get.set_defaults(handler=cmd_get)

    download = sub.add_parser("download", help="save an image's bytes (master or a size)")
    download.add_argument("id")
    download.add_argument("--size", choices=["small", "medium", "large"])
    download.add_argument("-o", "--output", help="file to write, - for stdout (default: ID[-SIZE].EXT)")
    download.set_defaults(handler=cmd_download)

    webhooks = sub.add_parser("webhooks", help="webhook delivery attempts of an image")
    webhooks.add_argument("id")
    webhooks.set_defaults(handler=cmd_webhooks)

    wait = sub.add_parser("wait", help="wait until an image is ready or failed")
    wait.add_argument("id")
    wait.add_argument("--timeout", type=float, default=120.0)
    wait.set_defaults(handler=cmd_wait)

    lst = sub.add_parser("list", help="list your images")
    lst.add_argument("--limit", type=int, default=20)
    lst.add_argument("--cursor")
    lst.add_argument("--sort", default="-created_at", choices=["created_at", "-created_at", "name", "-name"])
    lst.add_argument("--name", help="substring filter on name")
    lst.add_argument("--status", choices=[s.value for s in Status])
    lst.set_defaults(handler=cmd_list)
