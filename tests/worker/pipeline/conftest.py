"""Fixtures for pipeline tests: a real loopback HTTP receiver and a real ``WorkerContext``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tests.support.pipeline import (
    Receiver,
    handler_for,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    ref: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(ref))
    server.daemon_threads = True
    ref.append(Receiver(port=int(server.server_address[1])))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ref[0]
    server.shutdown()
    server.server_close()
