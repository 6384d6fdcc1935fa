"""SSRF guard, IPv6 forms that carry an IPv4 address: judged by the IPv4 they deliver to.

Each row is one embedding (NAT64, IPv4-compatible, SIIT, 6to4, Teredo, ISATAP) wrapped around
a public and a non-public IPv4 address; refusals name the URL, never the resolved address.
"""

from __future__ import annotations

import ipaddress

import pytest

from jobs.contract.errors import SourceUnreachable
from jobs.plumbing.netguard import Resolver, is_public_address, pin

V4 = ipaddress.IPv4Address


def low32(prefix: str, v4: str) -> str:
    """``prefix`` (a /96) with ``v4`` in its last 32 bits."""
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | int(V4(v4))))


def sixtofour(v4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (int(V4(v4)) << 80) | 1))


def teredo(server: str, client: str) -> str:
    """RFC 4380: 2001:0:<server>:<flags>:<port ^ ffff>:<client ^ ffffffff>."""
    value = (0x2001_0000 << 96) | (int(V4(server)) << 64) | (0x8000 << 48) | ((0x1234 ^ 0xFFFF) << 32)
    return str(ipaddress.IPv6Address(value | (int(V4(client)) ^ 0xFFFF_FFFF)))


def isatap(prefix: str, v4: str, u_bit: bool = False) -> str:
    iid = ((0x0200_5EFE if u_bit else 0x0000_5EFE) << 32) | int(V4(v4))
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | iid))


PUBLIC_V4 = "8.8.8.8"
# (form, address, public?)
CASES = [
    ("NAT64 well-known, loopback", low32("64:ff9b::", "127.0.0.1"), False),
    ("NAT64 well-known, metadata", low32("64:ff9b::", "169.254.169.254"), False),
    ("NAT64 well-known, private", low32("64:ff9b::", "10.0.0.7"), False),
    ("NAT64 well-known, public", low32("64:ff9b::", PUBLIC_V4), True),
    ("NAT64 local-use, public", "64:ff9b:1::808:808", False),
    ("NAT64 local-use, /48 embedding", "64:ff9b:1:7f00:1::", False),
    ("IPv4-compatible, loopback", low32("::", "127.0.0.1"), False),
    ("IPv4-compatible, private", low32("::", "192.168.1.1"), False),
    ("IPv4-compatible, public", low32("::", PUBLIC_V4), True),
    ("IPv4-mapped, loopback", low32("::ffff:0:0", "127.0.0.1"), False),
    ("IPv4-mapped, public", low32("::ffff:0:0", PUBLIC_V4), True),
    ("SIIT translated, loopback", low32("::ffff:0:0:0", "127.0.0.1"), False),
    ("SIIT translated, CGNAT", low32("::ffff:0:0:0", "100.64.0.1"), False),
    ("SIIT translated, public", low32("::ffff:0:0:0", PUBLIC_V4), True),
    ("6to4, loopback", sixtofour("127.0.0.1"), False),
    ("6to4, private", sixtofour("172.16.0.1"), False),
    ("6to4, public", sixtofour(PUBLIC_V4), True),
    ("Teredo, loopback client", teredo(PUBLIC_V4, "127.0.0.1"), False),
    ("Teredo, metadata client", teredo(PUBLIC_V4, "169.254.169.254"), False),
    ("Teredo, private server", teredo("10.0.0.1", PUBLIC_V4), False),
    ("Teredo, both public", teredo(PUBLIC_V4, "1.1.1.1"), True),
    ("ISATAP, global prefix, loopback", isatap("2606:4700::", "127.0.0.1"), False),
    ("ISATAP, global prefix, private, u bit", isatap("2606:4700::", "10.1.2.3", u_bit=True), False),
    ("ISATAP, global prefix, public", isatap("2606:4700::", PUBLIC_V4, u_bit=True), True),
    ("ISATAP, link-local prefix, public", isatap("fe80::", PUBLIC_V4), False),
    ("plain global IPv6", "2606:4700::1111", True),
    ("plain ULA", "fd00::7", False),
]


@pytest.mark.parametrize(("form", "address", "public"), CASES, ids=[c[0] for c in CASES])
def test_embedded_ipv4_decides(form: str, address: str, public: bool) -> None:
    assert is_public_address(address) is public, f"{form}: {address}"


def resolves_to(address: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    return resolve


@pytest.mark.parametrize(
    ("form", "address"),
    [(f, a) for f, a, public in CASES if not public],
    ids=[c[0] for c in CASES if not c[2]],
)
async def test_refusal_names_the_url_not_the_address(form: str, address: str) -> None:
    url = "https://user:hunter2@images.example.com:8443/a/b.jpg?token=s3cr3t#frag"
    with pytest.raises(SourceUnreachable) as info:
        await pin(url, allow_private=False, resolver=resolves_to(address))
    message = info.value.message
    assert "https://images.example.com:8443/a/b.jpg" in message, message
    assert "non-public" in message
    embedded = str(ipaddress.IPv6Address(address))
    for leak in (embedded, address, "hunter2", "s3cr3t", "user:"):
        assert leak not in message, f"{form}: {message!r} names {leak!r}"


async def test_literal_embedding_in_the_url_is_refused() -> None:
    url = f"http://[{low32('64:ff9b::', '127.0.0.1')}]:6379/"
    with pytest.raises(SourceUnreachable):
        await pin(url, allow_private=False)
