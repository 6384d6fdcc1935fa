"""``darkroom run`` as a newcomer starts it: its environment and the process, for e2e tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from tests.support.stack import ROOT


def embedded_env(data: Path, *, http_port: int, redis_port: int, **extra: str) -> dict[str, str]:
    """This process's environment without DARKROOM_*, plus one key (k1 → acme), the ports (no
    metrics exporter unless ``extra`` sets one) and local storage under ``data``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DARKROOM_")}
    env.update(
        DARKROOM_API_KEYS=json.dumps({"k1": "acme"}),
        DARKROOM_HTTP_PORT=str(http_port),
        DARKROOM_METRICS_PORT="0",  # 9191 is shared by every test here: darkroom run refuses a busy port
        DARKROOM_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        DARKROOM_STORAGE_URL=f"file://{data}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_darkroom_run(env: dict[str, str], log: IO[bytes], **popen: Any) -> subprocess.Popen[bytes]:
    """``darkroom run --processes 1`` in a session of its own, its output into ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli.main", "run", "--processes", "1"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen,
    )  # fmt: skip
