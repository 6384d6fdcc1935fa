"""``darkroom`` as a user types it in a fresh terminal: a subprocess with a scrubbed environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.stack import ROOT

# No venv on PATH (``make run`` does not activate it) and no DARKROOM_* variable.
PLAIN_PATH = "/usr/local/bin:/usr/bin:/bin"


def scrubbed_env(**extra: str) -> dict[str, str]:
    """PATH, HOME and PYTHONPATH only (plus ``extra``): nothing exported by the user."""
    env = {"PATH": PLAIN_PATH, "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT)}
    env.update(extra)
    return env


def darkroom(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``darkroom ARGS`` in ``cwd``; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli.main", *args],
        cwd=cwd, env=scrubbed_env() if env is None else env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
