"""Loopback HTTP endpoints for tests: image sources (well-behaved or not) and recorders."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DrippingSource(BaseHTTPRequestHandler):
    """200, then one byte every 100 ms, forever: no read ever times out; counts its requests."""

    requests = 0
    stop = threading.Event()

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        self.wfile.write(b"\xff\xd8")
        while not self.stop.wait(0.1):
            try:
                self.wfile.write(b"\x00")
                self.wfile.flush()
            except OSError:
                return  # the worker hung up

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def dripping_source() -> Iterator[str]:
    DrippingSource.requests = 0
    DrippingSource.stop = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), DrippingSource)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slow.jpg"
    finally:
        DrippingSource.stop.set()
        server.shutdown()
        server.server_close()


class _Recording(BaseHTTPRequestHandler):
    """Answers every POST 200 and keeps its JSON body (a CDN purge API, say)."""

    bodies: list[bytes]
    lock: threading.Lock

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.lock:
            self.bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def recording_endpoint() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback URL and the list of request bodies POSTed to it so far."""
    bodies: list[bytes] = []
    handler = type("Recording", (_Recording,), {"bodies": bodies, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/purge", bodies
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class StaticSource:
    """An origin serving ``body`` (change it at will) to every GET; ``hits`` counts them."""

    url: str
    body: bytes
    hits: int = 0


@contextmanager
def static_source(body: bytes, path: str = "/photo.jpg") -> Iterator[StaticSource]:
    source = StaticSource(url="", body=body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            source.hits += 1
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(source.body)))
            self.end_headers()
            self.wfile.write(source.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    source.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield source
    finally:
        server.shutdown()
        server.server_close()
