"""Outbound URL policy for source fetches and webhooks (SSRF guard).

* http/https only;
* the host is resolved once and **every** address must be public: loopback, private,
  link-local (incl. the 169.254.169.254 metadata service), CGNAT, multicast, reserved,
  unspecified and their IPv6 equivalents are refused;
* an IPv6 address that carries an IPv4 address the network may deliver to (IPv4-mapped,
  IPv4-compatible, SIIT, NAT64 ``64:ff9b::/96``, 6to4, Teredo, an ISATAP interface id) is
  judged by that IPv4 address: ``64:ff9b::7f00:1`` is loopback through a NAT64 gateway. The
  local-use NAT64 prefix ``64:ff9b:1::/48`` places the IPv4 where its operator chose, so it is
  refused outright; so would be any operator-chosen NAT64 or 6rd prefix, if it could be told
  from an ordinary global address (it cannot: such networks need ``ALLOW_PRIVATE_SOURCES``
  or an egress firewall);
* refusals name the URL (without credentials or query), never what the host resolved to,
  so the error does not map the internal network for the caller;
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

from jobs.contract.errors import SourceUnreachable, SourceUnresolvable

Resolver = Callable[[str, int], Awaitable[list[str]]]
DEFAULT_PORTS = {"http": 80, "https": 443}


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address
N6 = ipaddress.IPv6Network
# Prefixes whose low 32 bits are the IPv4 address the packet ends up at (RFC 4291 mapped
# and compatible, RFC 7915 SIIT, RFC 6052 well-known NAT64).
LOW32_EMBEDDING = (N6("::ffff:0:0/96"), N6("::/96"), N6("::ffff:0:0:0/96"), N6("64:ff9b::/96"))
REFUSED_OUTRIGHT = (N6("64:ff9b:1::/48"),)  # RFC 8215 local-use NAT64: the embedding is local
ISATAP_IID = 0x0000_5EFE  # RFC 5214 interface id ``[02]00:5efe:a.b.c.d`` (the u bit may be set)


def tunnelled_ipv4(ip: IPv6) -> tuple[IPv4, ...] | None:
    """The IPv4 addresses a translation or tunnel prefix delivers ``ip`` to, else None."""
    if any(ip in net for net in LOW32_EMBEDDING):
        return (IPv4(int(ip) & 0xFFFF_FFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo  # the server and the client's NAT address (de-obfuscated)
    return None


def isatap_ipv4(ip: IPv6) -> IPv4 | None:
    """The IPv4 of an ISATAP interface id (any prefix), else None."""
    if (int(ip) >> 32) & 0xFDFF_FFFF == ISATAP_IID:
        return IPv4(int(ip) & 0xFFFF_FFFF)
    return None


def _public(ip: IPv4 | IPv6) -> bool:
    return ip.is_global and not ip.is_multicast


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv4):
        return _public(ip)
    if any(ip in net for net in REFUSED_OUTRIGHT):
        return False
    tunnelled = tunnelled_ipv4(ip)
    if tunnelled is not None:
        # where the packet goes is decided by the IPv4 alone; ``ipaddress``'s verdict on the
        # prefix itself (2002::/16, 2001::/32) also differs between Python versions
        return all(_public(v4) for v4 in tunnelled)
    isatap = isatap_ipv4(ip)  # the prefix is routed as usual, the IPv4 is the last hop
    return _public(ip) and (isatap is None or _public(isatap))


def display_url(url: str) -> str:
    """``url`` as an error may show it: no credentials, no query (signed URLs carry tokens)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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
    if not all(is_public_address(address) for address in addresses):
        raise SourceUnreachable(f"{display_url(url)} points to a non-public address; refused.")
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
