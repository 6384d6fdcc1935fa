"""CDN purgers: none, log, and the HTTP purge webhook (batching, error classes)."""

from __future__ import annotations

import json

import httpx
import pytest

from jobs.contract.errors import ConfigError, StorageError, Unavailable
from jobs.contract.settings import Settings
from worker.cdn import HttpPurger, LogPurger, NoPurger, make_purger


def test_factory_picks_by_setting(settings: Settings) -> None:
    client = httpx.AsyncClient()
    assert isinstance(make_purger(settings, client), NoPurger)
    assert isinstance(make_purger(settings.model_copy(update={"cdn_purger": "log"}), client), LogPurger)
    http = settings.model_copy(update={"cdn_purger": "http", "cdn_purge_url": "https://cdn/purge"})
    assert isinstance(make_purger(http, client), HttpPurger)
    with pytest.raises(ConfigError):
        make_purger(settings.model_copy(update={"cdn_purger": "http"}), client)


async def test_http_purger_batches_and_classifies_errors() -> None:
    seen: list[list[str]] = []
    status = {"code": 200}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["urls"])
        return httpx.Response(status["code"])

    async def purge(urls: list[str]) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await HttpPurger(client, "https://cdn.example/purge").purge(urls)

    urls = [f"https://cdn.example/{i}.jpg" for i in range(1200)]
    await purge(urls)
    assert [len(batch) for batch in seen] == [500, 500, 200]
    assert [u for batch in seen for u in batch] == urls
    status["code"] = 503
    with pytest.raises(Unavailable):
        await purge(urls[:1])
    status["code"] = 403
    with pytest.raises(StorageError):
        await purge(urls[:1])


async def test_log_purger_remembers() -> None:
    purger = LogPurger()
    await purger.purge(["a", "b"])
    assert purger.purged == ["a", "b"]
