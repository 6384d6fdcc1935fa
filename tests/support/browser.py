"""Headless Chromium for page tests: the rendered DOM of a URL, or a screenshot of it.

No Playwright: the Debian ``chromium`` binary's ``--dump-dom`` and ``--screenshot`` are enough
for server-rendered pages. A missing browser skips the test with a clear message, except
under ``CI=true`` where it fails (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--disable-dev-shm-usage",
)  # fmt: skip
# A browser without internet: every host but 127.0.0.1 fails to resolve, and any other
# request (an IP literal) goes to a proxy on the discard port, which refuses it; loopback
# bypasses the proxy. Waits for the page's own fetches (virtual time) before the DOM or picture.
OFFLINE = (
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--virtual-time-budget=15000",
)


def require_chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium not found: `apt-get install -y chromium` to run the dashboard test"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def _run(binary: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="darkroom-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip


def dump_dom(binary: str, url: str, flags: tuple[str, ...] = ()) -> str:
    """The DOM after the page (and any redirect before it) loaded."""
    return _run(binary, *flags, "--dump-dom", url).stdout


def screenshot(
    binary: str, url: str, path: Path, size: tuple[int, int] = (1280, 900), flags: tuple[str, ...] = ()
) -> Path:
    _run(binary, *flags, f"--screenshot={path}", f"--window-size={size[0]},{size[1]}", url)
    return path
