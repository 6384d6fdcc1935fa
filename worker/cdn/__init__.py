"""CDN purgers, chosen by ``DARKROOM_CDN_PURGER``: ``none`` (default), ``log``, ``http``."""

from __future__ import annotations

import httpx

from jobs.contract.errors import ConfigError
from jobs.contract.settings import Settings
from worker.cdn.base import Purger
from worker.cdn.http import HttpPurger
from worker.cdn.log import LogPurger
from worker.cdn.none import NoPurger


def make_purger(settings: Settings, client: httpx.AsyncClient) -> Purger:
    if settings.cdn_purger == "http":
        if not settings.cdn_purge_url:
            raise ConfigError("DARKROOM_CDN_PURGE_URL", "DARKROOM_CDN_PURGER=http needs a purge URL.")
        return HttpPurger(client, settings.cdn_purge_url)
    if settings.cdn_purger == "log":
        return LogPurger()
    return NoPurger()


__all__ = ["HttpPurger", "LogPurger", "NoPurger", "Purger", "make_purger"]
