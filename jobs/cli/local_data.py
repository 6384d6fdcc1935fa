"""What ``darkroom run`` keeps in the local data directory, and how every other command reads it.

``darkroom run`` on local storage generates its secrets into the data directory once
(``.api-key``, ``.signing-key``, ``.webhook-secret``, ``.admin-key``, ``.redis-password``)
and, while it runs, writes where it listens (``.darkroom-run.json``: the API's URL and the
Redis it uses, without password). :func:`local_settings` is the one function that turns
those files into settings: ``darkroom run`` calls it to create them, every other command of
the same checkout to read them, so ``darkroom upload`` or ``darkroom dashboard-link`` in
another terminal works with no exports. A setting given explicitly (``DARKROOM_*``) always
wins over the files.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jobs.cli.redis_server import with_password
from jobs.contract import local_secrets
from jobs.contract.settings import Settings, load_settings

RUN_FILE = ".darkroom-run.json"
API_KEY_FILE, SIGNING_KEY_FILE = local_secrets.API_KEY.file, local_secrets.SIGNING_KEY.file
WEBHOOK_SECRET_FILE, ADMIN_KEY_FILE = local_secrets.WEBHOOK_SECRET.file, local_secrets.ADMIN_KEY.file
REDIS_PASSWORD_FILE = local_secrets.REDIS_PASSWORD.file  # the names: one table (jobs/contract/local_secrets)
LOCAL_ACCOUNT = "local"


def persistent_secret(path: Path, prefix: str = "", *, create: bool = True) -> str | None:
    """The secret stored in ``path``; made (readable by its owner only) when ``create`` and absent."""
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    value = prefix + secrets.token_urlsafe(24)
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )  # never readable by others, not even briefly
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


def local_settings(base: Settings, *, create: bool) -> Settings:
    """``base`` completed from the local data directory (storage ``file://`` only).

    ``create``: ``darkroom run``, which makes the directory and any missing secret. Without
    it nothing is written (a command run from the wrong directory must not make a ``data/``)
    and the running stack's addresses are read from :data:`RUN_FILE`.
    """
    if base.storage_scheme != "file":
        return base
    root = base.local_storage_root
    if create:
        root.mkdir(mode=0o750, parents=True, exist_ok=True)  # what it stores is private (docs/operations.md)
    elif not root.is_dir():
        return base
    overrides: dict[str, Any] = {}
    explicit = base.model_fields_set
    secret_files = (
        ("signing_key", SIGNING_KEY_FILE, ""), ("webhook_secret", WEBHOOK_SECRET_FILE, ""),
        ("admin_key", ADMIN_KEY_FILE, "dka_"),
    )  # fmt: skip
    if not base.api_keys:
        key = persistent_secret(root / API_KEY_FILE, "dk_", create=create)
        if key:
            overrides["api_keys"] = {key: LOCAL_ACCOUNT}
    for name, filename, prefix in secret_files:
        if name not in explicit and not getattr(base, name).get_secret_value():
            value = persistent_secret(root / filename, prefix, create=create)
            if value:
                overrides[name] = value
    if not create:
        overrides |= running_stack(root, explicit)
    if not overrides:
        return base
    return load_settings(**base.model_dump(include=explicit), **overrides)


def running_stack(root: Path, explicit: set[str]) -> dict[str, Any]:
    """The API URL and Redis of the ``darkroom run`` that writes to ``root``, unless set explicitly."""
    try:
        run = json.loads((root / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}
    found: dict[str, Any] = {}
    if not explicit & {"api_url", "http_host", "http_port"} and isinstance(run.get("api_url"), str):
        found["api_url"] = run["api_url"]
    if "redis_url" not in explicit and isinstance(run.get("redis_url"), str):
        url = run["redis_url"]
        password = private_redis_password(root, create=False) if run.get("private") else None
        found["redis_url"] = with_password(url, password) if password else url
    return found


def private_redis_password(root: Path, *, create: bool) -> str | None:
    """The password of the redis-server ``darkroom run`` starts for the data directory ``root``."""
    return persistent_secret(root / REDIS_PASSWORD_FILE, create=create)


def record_run(settings: Settings, *, private_redis: bool) -> Path:
    """Write :data:`RUN_FILE` (no secret in it: the Redis password stays in its own file)."""
    path = settings.local_storage_root / RUN_FILE
    parts = urlsplit(settings.redis_url)
    redis_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    body = {"api_url": settings.client_base_url, "redis_url": redis_url, "private": private_redis}
    path.write_text(json.dumps(body) + "\n")
    return path
