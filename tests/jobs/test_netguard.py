"""SSRF guard: every forbidden address class is refused; connections are pinned to checked IPs."""

from __future__ import annotations

import pytest

from jobs.contract.errors import SourceUnreachable, SourceUnresolvable
from jobs.plumbing.netguard import Resolver, is_public_address, pin, precheck

FORBIDDEN = [
    "127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.5.4", "192.168.0.1", "169.254.169.254", "169.254.1.1",
    "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
]  # fmt: skip


@pytest.mark.parametrize("address", FORBIDDEN)
def test_non_public_addresses(address: str) -> None:
    assert is_public_address(address) is False


def test_public_addresses() -> None:
    assert all(is_public_address(a) for a in ("93.184.216.34", "8.8.8.8", "2606:4700::1111"))


def resolver_for(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("NXDOMAIN")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://x/", "http:///nohost", "http://127.0.0.1/a",
     "http://[::1]/x", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.7:6379/", "http://[fd00::1]/",
     "http://0177.0.0.1/", "http://localhost/", "http://internal.corp/x", "http://mixed.example/x"],
)  # fmt: skip
async def test_forbidden_urls_are_refused(url: str) -> None:
    resolve = resolver_for(
        {
            "localhost": ["127.0.0.1"],
            "internal.corp": ["10.9.8.7"],
            "mixed.example": ["93.184.216.34", "10.0.0.1"],
        }
    )
    with pytest.raises(SourceUnreachable) as info:
        await pin(url, allow_private=False, resolver=resolve)
    assert info.value.message  # a clear reason, not a stack trace


async def test_pinning_keeps_host_and_sni() -> None:
    resolve = resolver_for({"images.example.com": ["93.184.216.34"], "v6.example.com": ["2606:4700::1111"]})
    target = await pin("https://images.example.com:8443/a/b.jpg?x=1", allow_private=False, resolver=resolve)
    assert target.url == "https://93.184.216.34:8443/a/b.jpg?x=1"
    assert target.host == "images.example.com:8443" and target.sni == "images.example.com"
    v6 = await pin("http://v6.example.com/a", allow_private=False, resolver=resolve)
    assert v6.url == "http://[2606:4700::1111]/a" and v6.sni is None


async def test_unresolvable_hosts_are_transient_and_pass_the_precheck() -> None:
    resolve = resolver_for({})
    with pytest.raises(SourceUnresolvable) as info:
        await pin("http://nowhere.example/a", allow_private=False, resolver=resolve)
    assert info.value.transient is True
    await precheck("http://nowhere.example/a", allow_private=False, resolver=resolve)  # left to the worker
    with pytest.raises(SourceUnreachable):
        await precheck("http://127.0.0.1/a", allow_private=False, resolver=resolve)


async def test_allow_private_skips_the_address_policy_but_not_the_scheme() -> None:
    target = await pin("http://127.0.0.1:8080/a", allow_private=True)
    assert target.url == "http://127.0.0.1:8080/a"
    with pytest.raises(SourceUnreachable):
        await pin("file:///etc/passwd", allow_private=True)
