"""A CDN purger invalidates public URLs at the edge. One module per backend."""

from __future__ import annotations

from typing import Protocol


class Purger(Protocol):
    name: str

    async def purge(self, urls: list[str]) -> None:
        """Invalidate ``urls``; raise a transient DarkroomError to have the job retried."""
