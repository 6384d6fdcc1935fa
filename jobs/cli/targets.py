"""Operator commands say what they act on before they act: which Redis, which storage.

``darkroom status`` against the wrong Redis shows a calm, empty system; ``darkroom reindex``
from the wrong directory scans an empty one. Naming both (the Redis password masked) on
stderr makes that visible, and stdout stays pure JSON.
"""

from __future__ import annotations

from jobs.cli.output import err
from jobs.cli.redis_server import without_password
from jobs.contract.errors import InvalidRequest
from jobs.contract.settings import Settings


def describe_targets(settings: Settings) -> str:
    return f"redis: {without_password(settings.redis_url)}   storage: {settings.storage_url}"


def announce_targets(settings: Settings) -> None:
    err.print(describe_targets(settings), markup=False, highlight=False, soft_wrap=True)


def require_local_storage(settings: Settings) -> None:
    """A ``file://`` storage whose directory does not exist is a mistake (the wrong cwd), not empty."""
    if settings.storage_scheme == "file" and not settings.local_storage_root.is_dir():
        raise InvalidRequest(
            f"storage {settings.storage_url} ({settings.local_storage_root}) does not exist: "
            "run this from the directory `darkroom run` uses, or set DARKROOM_STORAGE_URL.",
            field="DARKROOM_STORAGE_URL",
        )
