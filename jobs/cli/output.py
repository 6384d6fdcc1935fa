"""How the CLI prints: JSON to stdout for machines, progress and tables to stderr for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from jobs.contract.models import Image

err = Console(stderr=True, highlight=False)
err.soft_wrap = not err.is_terminal  # written to a file or pipe: long lines (URLs) stay whole


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
    sys.stdout.flush()


def image_dict(image: Image) -> dict[str, Any]:
    return json.loads(image.to_json())  # type: ignore[no-any-return]


def summary_table(rows: Iterable[tuple[str, Image | None, str | None]]) -> Table:
    table = Table(title="Darkroom upload summary")
    for column in ("file", "id", "status", "size", "detail"):
        table.add_column(column)
    for path, image, problem in rows:
        if image is None:
            table.add_row(path, "-", "[red]rejected[/red]", "-", problem or "")
            continue
        colour = {"ready": "green", "failed": "red"}.get(image.status.value, "yellow")
        dims = f"{image.width}x{image.height}" if image.width else "-"
        detail = f"{image.error.code}: {image.error.message}" if image.error else (image.format or "")
        table.add_row(path, image.id, f"[{colour}]{image.status.value}[/{colour}]", dims, detail)
    return table
