"""``darkroom fsck`` in-process: JSON lines out, exit 0 clean / 1 problems / 2 usage."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from jobs.cli.main import main
from jobs.contract.constants import original_key
from jobs.contract.ids import new_image_id
from jobs.contract.settings import Settings

Cli = Callable[..., tuple[int, list[dict[str, Any]]]]


@pytest.fixture
def fsck(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], settings: Settings) -> Cli:
    for name in list(os.environ):
        if name.startswith("DARKROOM_"):
            monkeypatch.delenv(name)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)

    def run(*argv: str) -> tuple[int, list[dict[str, Any]]]:
        capsys.readouterr()
        code = main(["fsck", *argv])
        return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    return run


def test_fsck_lists_an_orphan_exits_1_and_repair_removes_it(fsck: Cli, settings: Settings) -> None:
    assert fsck() == (0, [{"summary": {
        "objects": 0, "records": 0, "recent": 0, "orphan": 0, "missing": 0, "unindexed": 0, "foreign": 0,
        "repaired": 0, "clean": True,
    }}])  # fmt: skip
    refused = new_image_id()
    staged = settings.local_storage_root / original_key(refused)
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"bytes of an upload answered 503")

    code, lines = fsck()  # FSCK_GRACE (an hour): too young to judge
    assert code == 0 and lines[-1]["summary"]["recent"] == 1

    code, lines = fsck("--grace", "0")
    assert code == 1
    assert lines[0] == {
        "kind": "orphan",
        "key": original_key(refused),
        "image_id": refused,
        "repaired": False,
    }
    assert staged.exists()

    code, lines = fsck("--grace", "0", "--repair")
    assert code == 0 and lines[0]["repaired"] is True and not staged.exists()
    assert lines[-1]["summary"]["repaired"] == 1


def test_fsck_refuses_bad_usage_with_2(fsck: Cli) -> None:
    assert fsck("--grace", "-1")[0] == 2
    with pytest.raises(SystemExit) as exc:
        fsck("--grace", "soon")
    assert exc.value.code == 2
