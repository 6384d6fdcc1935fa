"""docs/api.md's "Limits" and "Files" sections: every limit a caller meets, from the enforcing constants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobs.api.limits_reference import limits
from jobs.api.routes.images import MAX_WAIT_S
from jobs.cli.services import embedded_settings
from jobs.contract.local_secrets import LOCAL_SECRETS, REDIS_PASSWORD
from jobs.contract.models import (
    MAX_CAPTION_CHARS,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_CHARS,
)
from jobs.contract.settings import Settings
from jobs.plumbing.store.listing import MAX_LIMIT
from tests.jobs.api.test_images import jpeg_bytes
from tests.support.api import K1

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"\n## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def rows(title: str) -> dict[str, list[str]]:
    table = [line for line in section(title).splitlines() if line.startswith("| ")][1:]  # past the header
    return {
        cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table)
    }


def test_the_issue_s_undocumented_limits_are_in_the_reference() -> None:
    documented = rows("Limits")
    assert documented["`metadata`"][0] == f"{MAX_METADATA_KEYS} keys" == "50 keys"
    assert documented["`metadata` key"][0] == f"1..{MAX_METADATA_KEY_CHARS} characters"
    assert documented["`metadata` value"][0].startswith(f"{MAX_METADATA_VALUE_CHARS} characters")
    assert documented["`caption`"][0] == f"{MAX_CAPTION_CHARS} characters"
    assert documented["`wait` (GET an image)"][0] == "30 s"
    assert documented["`limit` (list images)"][0] == f"1..{MAX_LIMIT}"
    assert documented["upload (file or raw body)"][0] == "20 MiB"  # as the 413 says it
    assert len(documented) == len(limits())


def test_the_files_darkroom_run_writes_are_the_documented_ones(tmp_path: Path) -> None:
    documented = rows("Files `darkroom run` generates")
    assert set(documented) == {f"`data/{s.file}`" for s in LOCAL_SECRETS}
    assert "`DARKROOM_WEBHOOK_SECRET`" in documented["`data/.webhook-secret`"]
    assert "`DARKROOM_SIGNING_KEY`" in documented["`data/.signing-key`"]
    embedded_settings(Settings(storage_url=f"file://{tmp_path}"))
    written = {p.name for p in tmp_path.iterdir()}
    assert written == {s.file for s in LOCAL_SECRETS if s != REDIS_PASSWORD}  # that one: with a private Redis


@pytest.mark.parametrize(
    ("method", "path", "over"),
    [
        ("GET", "/v1/images", {"params": {"limit": MAX_LIMIT + 1}}),
        ("GET", "/v1/images/image_aaaaaaaaaaaaaaaaaaaaaaaa", {"params": {"wait": MAX_WAIT_S + 1}}),
        ("POST", "/v1/images/upload", {"params": {"caption": "c" * (MAX_CAPTION_CHARS + 1)}}),
        (
            "POST",
            "/v1/images/upload",
            {"params": {"metadata": json.dumps({f"k{i}": i for i in range(MAX_METADATA_KEYS + 1)})}},
        ),
        (
            "POST",
            "/v1/images/upload",
            {"params": {"metadata": json.dumps({"k" * (MAX_METADATA_KEY_CHARS + 1): 1})}},
        ),
        (
            "POST",
            "/v1/images/upload",
            {"params": {"metadata": json.dumps({"k": "v" * (MAX_METADATA_VALUE_CHARS + 1)})}},
        ),
    ],
)
def test_one_past_a_documented_limit_is_a_400(
    api: TestClient, method: str, path: str, over: dict[str, dict[str, object]]
) -> None:
    headers = K1 | {"Content-Type": "image/jpeg"} if method == "POST" else K1
    content = jpeg_bytes() if method == "POST" else None
    response = api.request(method, path, headers=headers, content=content, **over)  # type: ignore[arg-type]
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
