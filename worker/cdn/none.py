"""No CDN in front of Darkroom: nothing to invalidate."""

from __future__ import annotations


class NoPurger:
    name = "none"

    async def purge(self, urls: list[str]) -> None:
        return None
