"""Log every URL that would be purged (development, or a CDN that reads logs)."""

from __future__ import annotations

import structlog

log = structlog.get_logger(__name__)


class LogPurger:
    name = "log"

    def __init__(self) -> None:
        self.purged: list[str] = []

    async def purge(self, urls: list[str]) -> None:
        for url in urls:
            log.info("cdn.purge", url=url)
        self.purged.extend(urls)
