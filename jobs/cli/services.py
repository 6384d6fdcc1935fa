"""Long-running services: ``darkroom api`` and ``darkroom run`` (the embedded stack).

``darkroom run`` runs nothing itself: it supervises a private redis-server (if needed), a
worker pool and the API as children (:mod:`jobs.cli.supervisor`), so a signal to it, or
any child's death, stops them all.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

from jobs.api import create_app
from jobs.cli.output import err
from jobs.cli.redis_server import reachable, start_private_redis, with_password, without_password
from jobs.cli.supervisor import Supervisor
from jobs.contract import local_secrets
from jobs.contract.settings import MiB, Settings, load_settings
from jobs.runtime.gc_tuning import tune_gc
from jobs.runtime.logs import configure_logging
from jobs.runtime.malloc import retain_freed_memory


def serve_api(settings: Settings) -> int:
    configure_logging(settings, process="api")
    retain_freed_memory(settings.malloc_retain_mb * MiB)  # request bodies of megabytes, every upload
    config = uvicorn.Config(
        create_app(settings), host=settings.http_host, port=settings.http_port,
        log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=10,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )  # fmt: skip
    config.load()  # the app and uvicorn's protocol classes, imported before the collector is tuned
    tune_gc()
    uvicorn.Server(config).run()
    return 0


def _persistent_secret(path: Path, prefix: str = "") -> str:
    if path.exists():
        return path.read_text().strip()
    value = prefix + secrets.token_urlsafe(24)
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )  # never readable by others, not even briefly
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


def embedded_settings(base: Settings) -> Settings:
    """Fill in what a newcomer has not configured: console logs, an API key, a signing key."""
    root = base.local_storage_root
    root.mkdir(mode=0o750, parents=True, exist_ok=True)  # what it stores is private (docs/operations.md)
    overrides: dict[str, object] = {"storage_url": f"file://{root}"}
    if "log_format" not in base.model_fields_set:
        overrides["log_format"] = "console"
    if not base.api_keys:
        overrides["api_keys"] = {_persistent_secret(root / local_secrets.API_KEY.file, "dk_"): "local"}
    if not base.signing_key.get_secret_value():
        overrides["signing_key"] = _persistent_secret(root / local_secrets.SIGNING_KEY.file)
    if not base.webhook_secret.get_secret_value():
        overrides["webhook_secret"] = _persistent_secret(root / local_secrets.WEBHOOK_SECRET.file)
    return load_settings(**overrides)


def child_env(settings: Settings) -> dict[str, str]:
    return dict(os.environ) | settings.to_env()


def banner(settings: Settings) -> str:
    url = settings.client_base_url
    key = next(iter(settings.api_keys))
    return (
        f"\n  Darkroom is running at {url}   (API docs: {url}/docs)\n"
        f"  storage: {settings.storage_url}   redis: {without_password(settings.redis_url)}\n"
        f"  API key: {key}\n\n"
        f"  Upload an image:\n"
        f"    curl -F file=@photo.jpg -H 'x-api-key: {key}' {url}/v1/images/upload\n"
        f"  Then poll it (or add ?wait=10 to long-poll):\n"
        f"    curl -H 'x-api-key: {key}' {url}/v1/images/IMAGE_ID\n"
        f"  Or with the CLI:  DARKROOM_API_KEY={key} darkroom upload photo.jpg --wait\n"
        f"  Ctrl-C stops everything.\n"
    )


API_GRACE_S = 15.0  # uvicorn's own graceful shutdown is 10 s (serve_api)
WORKER_SHUTDOWN_S = 30.0  # the pool's --shutdown-timeout: in-flight jobs finish or are requeued
WORKER_GRACE_S = WORKER_SHUTDOWN_S + 15.0
REDIS_GRACE_S = 15.0  # it saves its snapshot on SIGTERM


def run_embedded(base: Settings, processes: int, threads: int) -> int:
    """Redis (if none is reachable), a worker pool and the API, supervised as one unit."""
    if base.storage_scheme != "file":
        err.print(
            "[yellow]darkroom run uses your S3 storage; a private Redis is only started for local storage[/]"
        )
    settings = embedded_settings(base) if base.storage_scheme == "file" else base
    configure_logging(settings, process="run")
    with Supervisor(say=lambda line: err.print(line, markup=False, soft_wrap=True)) as supervisor:
        if not reachable(settings.redis_url):
            if settings.storage_scheme != "file":
                err.print(f"[red]Redis at {without_password(settings.redis_url)} is unreachable.[/]")
                return 2
            root = settings.local_storage_root
            secret_file = root / local_secrets.REDIS_PASSWORD.file
            password = urlsplit(settings.redis_url).password or _persistent_secret(secret_file)
            redis_proc = start_private_redis(settings.redis_url, root / ".redis", password)
            supervisor.adopt("redis-server", redis_proc, REDIS_GRACE_S)
            settings = settings.model_copy(update={"redis_url": with_password(settings.redis_url, password)})
            err.print(f"started a private redis-server for {without_password(settings.redis_url)}")
        env = child_env(settings)  # after Redis: the children need its final URL
        worker_argv = [
            sys.executable, "-m", "worker", "--processes", str(processes), "--threads", str(threads),
            "--shutdown-timeout", str(WORKER_SHUTDOWN_S),
        ]  # fmt: skip
        supervisor.start("the worker pool", worker_argv, env=env, grace_s=WORKER_GRACE_S)
        supervisor.start(
            "the API", [sys.executable, "-m", "jobs.cli.main", "api"], env=env, grace_s=API_GRACE_S
        )
        err.print(banner(settings))
        return supervisor.wait()
