"""Asynchronous client (httpx.AsyncClient) with the same methods as :class:`Client`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx

from jobs.client import protocol as p
from jobs.contract.models import Image
from jobs.contract.states import Status


class AsyncClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retries = retries
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=p.auth_headers(api_key), timeout=timeout, transport=transport
        )

    async def _send(self, request: p.Request) -> httpx.Response:
        """Send, retrying 429/503 and connection failures up to ``retries`` times."""
        request = p.prepare(request)
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    data=request.data,
                    files=request.files,
                    content=request.content,
                    headers=request.headers,
                    timeout=request.timeout if request.timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                if not p.should_retry(None, attempt, self.retries):
                    raise p.translate_transport_error(exc) from exc
                response = None
            if not p.should_retry(response, attempt, self.retries):
                assert response is not None
                return response
            await asyncio.sleep(p.retry_delay(response, attempt))
            attempt += 1

    async def upload(self, file: p.FileInput, **options: Any) -> Image:
        return p.parse_image(await self._send(p.upload_request(file, **options)))

    async def upload_url(self, url: str, **options: Any) -> Image:
        return p.parse_image(await self._send(p.upload_url_request(url, **options)))

    async def transform(self, image_id: str, operations: list[dict[str, Any]], **options: Any) -> Image:
        return p.parse_image(await self._send(p.transform_request(image_id, operations, **options)))

    async def publish(self, image_id: str) -> Image:
        """Publish (answers when done, or with the image still unpublished if workers are slow)."""
        return p.parse_image(await self._send(p.image_action_request(image_id, "publish")))

    async def unpublish(self, image_id: str) -> Image:
        return p.parse_image(await self._send(p.image_action_request(image_id, "unpublish")))

    async def refresh(self, image_id: str) -> Image:
        return p.parse_image(await self._send(p.image_action_request(image_id, "refresh")))

    async def delete(self, image_id: str) -> None:
        p.check(await self._send(p.delete_request(image_id)))

    async def render_url(self, image_id: str, operations: list[dict[str, Any]], format: str) -> str:
        """A signed render URL (``/render/...``) for one of your images."""
        return str(p.json_body(await self._send(p.render_url_request(image_id, operations, format)))["url"])

    async def warmup(self, urls: list[str]) -> dict[str, Any]:
        return p.json_body(await self._send(p.warmup_request(urls)))

    async def purge(self, scope: str, *, image_id: str | None = None, urls: list[str] | None = None) -> str:
        """Invalidate cached derivatives; returns the purge id."""
        return str(p.json_body(await self._send(p.purge_request(scope, image_id, urls)))["purge_id"])

    async def purge_status(self, purge_id: str) -> dict[str, Any]:
        return p.json_body(await self._send(p.purge_status_request(purge_id)))

    async def webhooks(self, image_id: str) -> list[dict[str, Any]]:
        """Webhook delivery attempts for an image, newest first."""
        return list(p.json_body(await self._send(p.webhooks_request(image_id)))["data"])

    async def webhook_secret(self) -> dict[str, Any]:
        """Where your webhook signing secret stands: generation, last rotation (never the secret)."""
        return p.json_body(await self._send(p.webhook_secret_request()))

    async def rotate_webhook_secret(self) -> dict[str, Any]:
        """A new webhook signing secret, shown once (``["secret"]``); the previous one keeps
        signing too for the overlap window (``["previous_valid_until"]``)."""
        return p.json_body(await self._send(p.rotate_webhook_secret_request()))

    async def get(self, image_id: str, *, wait: float = 0) -> Image:
        return p.parse_image(await self._send(p.get_request(image_id, wait)))

    async def wait(self, image_id: str, timeout: float = 60.0) -> Image:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            image = await self.get(image_id, wait=max(0.0, remaining))
            if image.status != Status.PROCESSING or remaining <= 0:
                return image

    async def list(self, **query: Any) -> p.ImagePage:
        return p.parse_page(await self._send(p.list_request(**query)))

    async def iter_images(self, **query: Any) -> AsyncIterator[Image]:
        cursor = None
        while True:
            page = await self.list(**query, cursor=cursor)
            for image in page.data:
                yield image
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def download(self, image_id: str, size: str | None = None) -> bytes:
        return p.check(await self._send(p.download_request(image_id, size))).content

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        await self.aclose()
