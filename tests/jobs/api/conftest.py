from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.contract.settings import Settings


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    """The real app (real Redis, local storage) in-process; no worker consumes the queues."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
