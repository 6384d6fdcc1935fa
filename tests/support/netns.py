"""A genuinely public IPv4 host on this machine, for SSRF tests that need a real public hop.

:func:`public_namespace` creates a Linux network namespace joined to the root namespace by a
veth pair. The namespace side gets an address from :data:`PUBLIC_BLOCK` (globally routable:
``ipaddress`` calls it global and :func:`jobs.plumbing.netguard.is_public_address` lets it through;
documentation blocks such as 198.51.100.0/24 are *not* global and would be refused), and the
root namespace routes that one /32 through the veth, so processes here (the worker) reach it
as they would any internet host. The root side of the veth gets the matching address of
:data:`PEER_BLOCK` as the source of that route. :func:`public_http_server` runs a tiny HTTP
server inside the namespace (this module, run with ``python -m``).

Everything is unique per use (namespace and veth names, the address), so pytest-xdist workers
run side by side: the address is claimed by adding its /32 route, which the kernel refuses
("File exists") while another test holds it. Everything is removed on exit, failure included;
the route and the root address go with the veth.

Needs root and iproute2: otherwise the test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, urlsplit

import pytest

from jobs.plumbing.netguard import is_public_address

ROOT = Path(__file__).resolve().parents[2]
# A slice of 11.0.0.0/8 (US DoD, globally routable: not private, shared, reserved or for
# documentation). While a test runs, one /32 of it is shadowed by a route on this machine only.
PUBLIC_BLOCK = ipaddress.IPv4Network("11.77.0.0/16")
PEER_BLOCK = ipaddress.IPv4Network("10.77.0.0/16")  # the root side's source address, same offset
SERVER_PORT = 8080  # the namespace is the test's own: any port is free there
CLAIM_TRIES = 64


def netns_unavailable(message: str) -> NoReturn:
    """Skip (fail under ``CI`` in 1/true/yes): as :func:`tests.support.servers.require_redis_binary`."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def require_netns() -> str:
    """The ``ip`` binary, if we may create network namespaces (root); otherwise skip or fail."""
    ip = shutil.which("ip")
    if ip is None:
        netns_unavailable(
            "`ip` (iproute2) not found: install iproute2 to run the network-namespace SSRF test"
        )
    if os.geteuid() != 0:
        netns_unavailable("the network-namespace SSRF test must run as root (it creates a netns and a veth)")
    return ip


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done


@dataclass(frozen=True)
class Namespace:
    name: str
    address: str  # the public IPv4 inside the namespace
    peer: str  # the root namespace's end of the veth

    def argv(self, *command: str) -> list[str]:
        """``command`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]


def _claim_address(veth: str) -> int:
    """An offset into the blocks whose public /32 this test now routes (through ``veth``)."""
    start = random.randrange(1, PUBLIC_BLOCK.num_addresses - 1)
    for step in range(CLAIM_TRIES):
        offset = (start + step) % (PUBLIC_BLOCK.num_addresses - 2) + 1
        done = _ip("route", "add", f"{PUBLIC_BLOCK[offset]}/32", "dev", veth, check=False)
        if done.returncode == 0:
            return offset
        if "File exists" not in done.stderr:
            raise RuntimeError(f"cannot route {PUBLIC_BLOCK[offset]} via {veth}: {done.stderr.strip()}")
    raise RuntimeError(f"no free address in {PUBLIC_BLOCK} after {CLAIM_TRIES} tries")


@contextmanager
def public_namespace() -> Iterator[Namespace]:
    """A fresh network namespace holding a public IPv4 address routed from here; removed on exit."""
    require_netns()
    tag = uuid.uuid4().hex[:8]
    name, outer, inner = f"darkroom-{tag}", f"drk{tag}o", f"drk{tag}i"  # veth names ≤ 15 chars
    created = _ip("netns", "add", name, check=False)
    if created.returncode != 0:
        netns_unavailable(f"cannot create a network namespace: {created.stderr.strip()}")
    try:
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", name)
        _ip("link", "set", outer, "up")
        offset = _claim_address(outer)
        address, peer = str(PUBLIC_BLOCK[offset]), str(PEER_BLOCK[offset])
        assert ipaddress.ip_address(address).is_global and is_public_address(address), address
        _ip("address", "add", f"{peer}/32", "dev", outer)
        _ip("route", "replace", f"{address}/32", "dev", outer, "src", peer)
        _ip("-n", name, "link", "set", "lo", "up")
        _ip("-n", name, "link", "set", inner, "up")
        _ip("-n", name, "address", "add", f"{address}/32", "dev", inner)
        _ip("-n", name, "route", "add", "default", "dev", inner)  # answers go back through the veth
        yield Namespace(name, address, peer)
    finally:
        _ip("link", "del", outer, check=False)  # takes its peer, the route and the address along
        _ip("netns", "del", name, check=False)


@dataclass(frozen=True)
class PublicServer:
    """The HTTP server in the namespace (see :class:`PublicHandler` for what it answers)."""

    base_url: str
    log_path: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def requests(self) -> list[str]:
        """``"METHOD /path?query"`` of every request received so far, in order."""
        return self.log_path.read_text().splitlines() if self.log_path.exists() else []


def _wait_reachable(address: str, port: int, proc: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the namespace HTTP server exited: {output.read_text(errors='replace')}")
        try:
            with socket.create_connection((address, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{address}:{port} (in a network namespace) not reachable after 10 s")


@contextmanager
def public_http_server(jpeg: bytes) -> Iterator[PublicServer]:
    """:class:`PublicHandler` on ``http://<public address>:8080`` in a :func:`public_namespace`."""
    with public_namespace() as ns, tempfile.TemporaryDirectory(prefix="darkroom-netns-") as tmp:
        work = Path(tmp)
        (work / "ok.jpg").write_bytes(jpeg)
        log_path, output = work / "requests.log", work / "server.out"
        argv = [sys.executable, "-m", "tests.support.netns", ns.address, str(SERVER_PORT), tmp]
        with output.open("wb") as out:
            proc = subprocess.Popen(ns.argv(*argv), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_reachable(ns.address, SERVER_PORT, proc, output)
            yield PublicServer(f"http://{ns.address}:{SERVER_PORT}", log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the server, run inside the namespace ------------------------------------------------------------


class PublicHandler(BaseHTTPRequestHandler):
    """``GET /ok.jpg``: the JPEG; ``/redirect?to=URL`` (any method): 302 to URL; else 404.

    Every request is appended to ``requests.log`` before it is answered.
    """

    workdir = Path()

    def answer(self) -> None:
        with (self.workdir / "requests.log").open("a") as log:
            log.write(f"{self.command} {self.path}\n")
        length = self.headers.get("content-length")
        if length and length.isdigit():
            self.rfile.read(int(length))  # a webhook's body: read it before answering
        parts = urlsplit(self.path)
        to = parse_qs(parts.query).get("to")
        if parts.path == "/redirect" and to:
            self.send_response(302)
            self.send_header("Location", to[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/ok.jpg" and self.command == "GET":
            body = (self.workdir / "ok.jpg").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    do_GET = do_POST = answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class NoLookupHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that binds without a reverse DNS lookup of its address."""

    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the FQDN: with no DNS in the namespace that hangs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


def serve(address: str, port: int, workdir: Path) -> None:
    PublicHandler.workdir = workdir
    with NoLookupHTTPServer((address, port), PublicHandler) as server, suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
