"""The benchmarks' load generator: raw-body uploads over kept-alive HTTP/1.1 connections.

The system under test is the server side (API → Redis → workers → storage). On a 2-core
machine the load generator shares the cores with it, so it should cost as little as a
real one (``wrk``, ``hey``) would: ``http.client`` with one persistent connection per
thread sends each body with one ``sendall`` and reads the JSON answer. The Python client
(``jobs.client``, on httpx) does the same request with retries and typed models; it cost
about 3.8 ms of CPU per 12 MP upload here, this about 1 ms (``bench/RESULTS.md``).
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit


class UploadError(RuntimeError):
    pass


class LoadGenerator:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 120.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.headers = {"x-api-key": api_key, "content-type": "application/octet-stream"}
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return conn

    def upload(self, data: bytes, filename: str = "b.jpg") -> str:
        """POST one raw-body upload; the new image's id (202), like ``Client.upload``."""
        headers = self.headers | {"idempotency-key": f"bench-{uuid.uuid4().hex}"}
        for attempt in range(2):  # a kept-alive connection the server closed meanwhile: once more
            conn = self._connection()
            try:
                conn.request("POST", f"/v1/images/upload?filename={filename}", body=data, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
                continue
            if response.status != 202:
                raise UploadError(f"upload answered {response.status}: {body[:300]!r}")
            return str(json.loads(body)["id"])
        raise AssertionError("unreachable")

    def upload_all(self, inputs: Iterable[bytes], concurrency: int = 8) -> list[str]:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(self.upload, inputs))
