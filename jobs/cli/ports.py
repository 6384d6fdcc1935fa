"""Is a port ``darkroom run`` needs already taken? Checked before anything starts.

Binding is the only reliable test (a connect misses a listener on another address); the
socket is closed at once and ``SO_REUSEADDR`` matches what uvicorn and redis-server set,
so a port in TIME_WAIT from the last run does not count as taken.
"""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

from jobs.contract.settings import Settings


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def wanted_ports(settings: Settings, *, private_redis: bool) -> list[tuple[str, str, int]]:
    """(what, host, port) for every port the embedded stack will listen on."""
    ports = [("the API (DARKROOM_HTTP_PORT)", settings.http_host or "0.0.0.0", settings.http_port)]
    if settings.metrics_port:
        ports.append(
            ("the metrics exporter (DARKROOM_METRICS_PORT)", settings.metrics_host, settings.metrics_port)
        )
    if private_redis:
        ports.append(
            (
                "the private redis-server (DARKROOM_REDIS_URL)",
                "127.0.0.1",
                urlsplit(settings.redis_url).port or 6379,
            )
        )
    return ports


def busy_port(settings: Settings, *, private_redis: bool) -> str | None:
    """One line naming the first port already in use, or None when every one is free."""
    for what, host, port in wanted_ports(settings, private_redis=private_redis):
        if port and port_in_use(host, port):
            return f"port {port} on {host} for {what} is already in use: stop what holds it or pick another."
    return None
