"""POST ``{"urls": [...]}`` to a purge webhook (a CDN API, or your own relay to it)."""

from __future__ import annotations

import httpx
import structlog

from jobs.contract.errors import StorageError, Unavailable

log = structlog.get_logger(__name__)
BATCH = 500


class HttpPurger:
    name = "http"

    def __init__(self, client: httpx.AsyncClient, url: str, timeout: float = 10.0) -> None:
        self.client = client
        self.url = url
        self.timeout = timeout

    async def purge(self, urls: list[str]) -> None:
        for start in range(0, len(urls), BATCH):
            batch = urls[start : start + BATCH]
            try:
                response = await self.client.post(self.url, json={"urls": batch}, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise Unavailable(f"CDN purge endpoint unreachable: {type(exc).__name__}.") from exc
            if response.status_code >= 500 or response.status_code == 429:
                raise Unavailable(f"CDN purge endpoint answered {response.status_code}.")
            if response.status_code >= 400:
                raise StorageError(f"CDN purge endpoint refused the request ({response.status_code}).")
            log.info("cdn.purged", count=len(batch))
