"""Source URLs that misbehave on purpose, served from a thread on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
