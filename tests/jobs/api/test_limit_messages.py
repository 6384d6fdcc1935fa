"""A 413 states the limit as people read it (``20 MiB``), never a byte count."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs.contract.settings import Settings
from jobs.contract.sizes import human_size
from tests.support.api import K1


def test_a_413_states_the_upload_limit_in_mib(api: TestClient, settings: Settings) -> None:
    """The file limit the caller set out to meet (not it + the multipart framing, not bytes)."""
    limit = human_size(settings.max_input_bytes)
    declared = settings.max_input_bytes + 128 * 1024  # past the framing allowance: refused before reading
    raw = {"Content-Type": "application/octet-stream", "Content-Length": str(declared)}
    early = api.post("/v1/images/upload", headers=K1 | raw, content=b"x" * declared)
    assert early.status_code == 413
    assert f"than the {limit} limit" in early.json()["message"], early.json()
    read = api.post(  # within the framing allowance: the file itself is over, found once read
        "/v1/images/upload",
        headers=K1 | {"Content-Type": "image/jpeg"},
        content=b"x" * (settings.max_input_bytes + 1),
    )
    assert read.status_code == 413
    assert read.json()["message"] == f"The file is larger than the {limit} limit."
