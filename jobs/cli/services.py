"""Long-running services: ``darkroom api`` and ``darkroom run`` (the embedded stack).

``darkroom run`` runs nothing itself: it supervises a private redis-server (if needed), a
worker pool and the API as children (:mod:`jobs.cli.supervisor`), so a signal to it, or
any child's death, stops them all.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

from jobs.api import create_app
from jobs.cli.local_data import local_settings, private_redis_password, record_run
from jobs.cli.output import err
from jobs.cli.ports import busy_port
from jobs.cli.redis_server import reachable, start_private_redis, with_password, without_password
from jobs.cli.supervisor import Supervisor
from jobs.contract.settings import MiB, Settings
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


def embedded_settings(base: Settings) -> Settings:
    """Fill in what a newcomer has not configured: console logs, the keys and secrets in data/."""
    settings = local_settings(base, create=True)
    overrides: dict[str, object] = {"storage_url": f"file://{settings.local_storage_root}"}
    if "log_format" not in base.model_fields_set:
        overrides["log_format"] = "console"
    return settings.model_copy(update=overrides)


def child_env(settings: Settings) -> dict[str, str]:
    return dict(os.environ) | settings.to_env()


def cli_command() -> str:
    """How to call this installation's ``darkroom`` from the current directory.

    ``make run`` runs ``.venv/bin/darkroom`` without activating the venv: a bare ``darkroom``
    in another terminal would be "command not found" (or another installation's).
    """
    script = Path(sys.executable).parent / "darkroom"
    on_path = shutil.which("darkroom")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "darkroom"
    if not script.exists():
        return f"{sys.executable} -m jobs.cli.main"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def mask(key: str) -> str:
    return key[:6] + "…" if len(key) > 10 else "***"


def banner(settings: Settings) -> str:
    url = settings.client_base_url
    key = settings.client_api_key or next(iter(settings.api_keys))
    keys = "\n".join(
        f"    {account}: {k if k == key else mask(k)}"
        for k, account in sorted(settings.api_keys.items(), key=lambda kv: kv[1])
    )
    cli = cli_command()
    if not settings.client_api_key or settings.storage_scheme != "file":  # it cannot find the key alone
        cli = f"DARKROOM_API_KEY={key} {cli}"
    return (
        f"\n  Darkroom is running at {url}   (API docs: {url}/docs)\n"
        f"  storage: {settings.storage_url}   redis: {without_password(settings.redis_url)}\n"
        f"  API keys (account: key):\n{keys}\n\n"
        f"  Upload an image:\n"
        f"    curl -F file=@photo.jpg -H 'x-api-key: {key}' {url}/v1/images/upload\n"
        f"  Then poll it (or add ?wait=10 to long-poll):\n"
        f"    curl -H 'x-api-key: {key}' {url}/v1/images/IMAGE_ID\n"
        f"  Or with the CLI, from this directory:\n"
        f"    {cli} upload photo.jpg --wait\n"
        f"    {cli} dashboard-link\n"
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
    private_redis = not reachable(settings.redis_url)
    if private_redis and settings.storage_scheme != "file":
        err.print(f"[red]Redis at {without_password(settings.redis_url)} is unreachable.[/]")
        return 2
    busy = busy_port(settings, private_redis=private_redis)
    if busy is not None:  # before anything starts: no banner for a stack that cannot listen
        err.print(f"darkroom run: {busy}", markup=False, soft_wrap=True)
        return 2
    with Supervisor(say=lambda line: err.print(line, markup=False, soft_wrap=True)) as supervisor:
        if private_redis:
            root = settings.local_storage_root
            password = urlsplit(settings.redis_url).password or private_redis_password(root, create=True)
            assert password is not None  # persistent_secret creates it
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
        run_file = None
        if settings.storage_scheme == "file":  # the other commands of this checkout find the stack here
            run_file = record_run(settings, private_redis=private_redis)
        err.print(banner(settings), markup=False, highlight=False)
        try:
            return supervisor.wait()
        finally:
            if run_file is not None:
                run_file.unlink(missing_ok=True)
