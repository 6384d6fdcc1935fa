"""Fetch a source URL safely: bounded size, time and redirects; every hop checked and pinned.

The address policy lives in :mod:`jobs.plumbing.netguard`: each hop (the first request and each
redirect) is resolved, checked, and the connection made to the checked IP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx

from jobs.contract.errors import SourceUnreachable, TooLarge
from jobs.contract.sizes import human_size
from jobs.plumbing.netguard import Resolver, Target, pin, system_resolver

MAX_REDIRECTS = 5
USER_AGENT = "Darkroom/0.1 (+https://github.com/darkroom-images/darkroom)"


def pinned_request_args(target: Target, headers: dict[str, str]) -> dict[str, Any]:
    """httpx arguments that connect to the checked IP while speaking to the original host."""
    args: dict[str, Any] = {"headers": headers | {"host": target.host}}
    if target.sni:
        args["extensions"] = {"sni_hostname": target.sni}
    return args


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    allow_private: bool,
    resolver: Resolver = system_resolver,
) -> bytes:
    """GET ``url`` following up to 5 checked redirects; stop reading past ``max_bytes``."""
    for hop in range(MAX_REDIRECTS + 1):
        try:
            target = await pin(url, allow_private=allow_private, resolver=resolver)
        except SourceUnreachable as exc:
            if hop == 0:
                raise
            raise type(exc)(f"The source redirected to {url}: {exc.message}") from exc
        args = pinned_request_args(target, {"user-agent": USER_AGENT})
        try:
            async with client.stream("GET", target.url, follow_redirects=False, **args) as response:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise SourceUnreachable(f"Redirect without Location from {url}.")
                    url = urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise SourceUnreachable(f"The source answered HTTP {response.status_code}.")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise TooLarge(f"The source is larger than the {human_size(max_bytes)} limit.")
                chunks: list[bytes] = []
                total = 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise TooLarge(f"The source is larger than the {human_size(max_bytes)} limit.")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise SourceUnreachable(f"Fetching {url} timed out.") from exc
        except httpx.HTTPError as exc:
            raise SourceUnreachable(f"Fetching {url} failed: {type(exc).__name__}.") from exc
    raise SourceUnreachable(f"More than {MAX_REDIRECTS} redirects.")
