"""Outbound URL policy for source fetches and webhooks (SSRF guard).

* http/https only;
* the host is resolved once and **every** address must be public: loopback, private,
  link-local (incl. the 169.254.169.254 metadata service), CGNAT, multicast, reserved,
  unspecified and their IPv6 / IPv4-mapped equivalents are refused;
* the connection is then *pinned* to the address that was checked (the URL's host is
  replaced by the IP; ``Host`` and TLS SNI keep the name), so a DNS answer that changes
  between check and connect (rebinding) cannot redirect the request;
* callers re-run this on every redirect hop.

``ALLOW_PRIVATE_SOURCES`` turns the address policy off (tests, trusted networks).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from jobs.errors import SourceUnreachable, SourceUnresolvable

Resolver = Callable[[str, int], Awaitable[list[str]]]
DEFAULT_PORTS = {"http": 80, "https": 443}


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect: ``url`` names the checked IP; ``host``/``sni`` keep the original name."""

    url: str
    host: str
    sni: str | None


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


async def pin(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` against the policy and return the pinned connection target."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SourceUnreachable(f"Only http and https URLs are allowed, not {scheme or 'none'!r}.")
    host = parts.hostname
    if not host:
        raise SourceUnreachable("The URL has no host.")
    port = parts.port or DEFAULT_PORTS[scheme]
    host_header = parts.netloc.rsplit("@", 1)[-1]
    if allow_private:
        return Target(url=url, host=host_header, sni=None)
    literal = _literal_ip(host)
    try:
        addresses = [literal] if literal else await resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise SourceUnresolvable(f"Cannot resolve {host!r}.") from exc
    if not addresses:
        raise SourceUnresolvable(f"{host!r} has no address.")
    for address in addresses:
        if not is_public_address(address):
            raise SourceUnreachable(f"{host!r} resolves to a non-public address ({address}); refused.")
    ip = addresses[0]
    netloc = f"[{ip}]" if ":" in ip else ip
    if parts.port:
        netloc += f":{parts.port}"
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(url=pinned, host=host_header, sni=host if scheme == "https" and not literal else None)


async def precheck(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """At request time: refuse what is certainly forbidden; leave DNS trouble to the worker."""
    try:
        async with asyncio.timeout(2.0):
            await pin(url, allow_private=allow_private, resolver=resolver)
    except (TimeoutError, SourceUnresolvable):
        return
