"""Run the real Darkroom processes for end-to-end tests: worker pools and the API.

Each is a subprocess started exactly as ops would (``python -m worker``,
``darkroom api``), configured only through ``DARKROOM_*`` environment variables.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from jobs.contract.settings import Settings
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DARKROOM_")}
    env.update(settings.to_env())
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Proc:
    """A child process whose output goes to a log file (shown when a test fails)."""

    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: BinaryIO | None = field(default=None, repr=False)

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        self._log = log
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        """Signal the whole process group (the dramatiq CLI forks worker processes)."""
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.alive():
            # Only the parent: the dramatiq master forwards SIGTERM to its processes once;
            # a second SIGTERM would make them exit without finishing in-flight jobs.
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_worker(settings: Settings, log_dir: Path, *args: str, name: str = "worker") -> Proc:
    argv = [sys.executable, "-m", "worker", "--processes", "1", "--threads", "2", *args]
    return Proc(argv, process_env(settings), log_dir / f"{name}.log").start()


def with_free_http_port(settings: Settings) -> Settings:
    """The same settings for every process of a stack, with the API on a free port."""
    return settings.model_copy(update={"http_port": free_port(), "http_host": "127.0.0.1"})


def start_api(settings: Settings, log_dir: Path) -> tuple[Proc, str]:
    argv = [sys.executable, "-m", "jobs.cli.main", "api"]
    proc = Proc(argv, process_env(settings), log_dir / "api.log").start()
    base_url = settings.client_base_url
    wait_http_ok(f"{base_url}/health/live", proc)
    return proc, base_url


def wait_http_ok(url: str, proc: Proc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"process exited early:\n{proc.output()[-4000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s:\n{proc.output()[-4000:]}")
