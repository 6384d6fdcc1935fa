"""What both clients share: how each call becomes a request and how answers are read.

The sync and async clients only differ in how they send; every request shape and
every response rule lives here once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from jobs.contract.errors import DarkroomError, Unavailable, error_from_body
from jobs.contract.models import Image
from jobs.contract.upload_options import as_text

FileInput = str | Path | bytes | IO[bytes]
MAX_SERVER_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    content: bytes | None = None
    timeout: float | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImagePage:
    data: list[Image]
    next_cursor: str | None


def segment(value: str) -> str:
    """An id as one literal path segment: ``../images`` must not become another endpoint."""
    return quote(value, safe="")


def read_file(file: FileInput, filename: str | None) -> tuple[str, bytes]:
    if isinstance(file, bytes):
        return filename or "upload", file
    if isinstance(file, str | Path):
        path = Path(file)
        return filename or path.name, path.read_bytes()
    return filename or Path(getattr(file, "name", "upload")).name, file.read()


def upload_request(file: FileInput, **options: Any) -> Request:
    """The raw-body upload: the file is the body (no multipart encoding), options in the query.

    ``options`` are the fields of :class:`jobs.contract.upload_options.UploadOptions`, by name.
    """
    fname, content = read_file(file, options.pop("filename", None))
    params = as_text(options) | {"filename": fname}
    headers = {"Content-Type": "application/octet-stream"}
    return Request("POST", "/v1/images/upload", params=params, content=content, headers=headers)


def upload_url_request(url: str, **options: Any) -> Request:
    body = {"url": url} | {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in options.items()}
    return Request("POST", "/v1/images", json={k: v for k, v in body.items() if v is not None})


def transform_request(image_id: str, operations: list[dict[str, Any]], **options: Any) -> Request:
    body = {"operations": operations} | {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in options.items() if v is not None
    }
    return Request("POST", f"/v1/images/{segment(image_id)}/transform", json=body)


def get_request(image_id: str, wait: float = 0) -> Request:
    params = {"wait": min(wait, MAX_SERVER_WAIT_S)} if wait > 0 else {}
    return Request(
        "GET", f"/v1/images/{segment(image_id)}", params=params, timeout=(wait + 10) if wait else None
    )


def list_request(
    *, limit: int = 20, cursor: str | None = None, sort: str = "-created_at",
    name: str | None = None, status: str | None = None,
) -> Request:  # fmt: skip
    params: dict[str, Any] = {"limit": limit, "sort": sort}
    if cursor:
        params["cursor"] = cursor
    if name:
        params["filter[name]"] = name
    if status:
        params["filter[status]"] = status
    return Request("GET", "/v1/images", params=params)


def download_request(image_id: str, size: str | None = None) -> Request:
    return Request("GET", f"/v1/images/{segment(image_id)}/download", params={"size": size} if size else {})


def image_action_request(image_id: str, action: str) -> Request:
    """publish, unpublish, refresh."""
    return Request("POST", f"/v1/images/{segment(image_id)}/{action}")


def delete_request(image_id: str) -> Request:
    return Request("DELETE", f"/v1/images/{segment(image_id)}")


def render_url_request(image_id: str, operations: list[dict[str, Any]], format: str) -> Request:
    return Request(
        "POST",
        f"/v1/images/{segment(image_id)}/render-url",
        json={"operations": operations, "format": format},
    )


def warmup_request(urls: list[str]) -> Request:
    return Request("POST", "/v1/warmup", json={"urls": urls})


def purge_request(scope: str, image_id: str | None = None, urls: list[str] | None = None) -> Request:
    body: dict[str, Any] = {"scope": scope}
    if image_id:
        body["image_id"] = image_id
    if urls:
        body["urls"] = urls
    return Request("POST", "/v1/purge", json=body)


def webhooks_request(image_id: str) -> Request:
    return Request("GET", f"/v1/images/{segment(image_id)}/webhooks")


def webhook_secret_request() -> Request:
    return Request("GET", "/v1/webhook-secret")


def rotate_webhook_secret_request() -> Request:
    return Request("POST", "/v1/webhook-secret/rotate")


def purge_status_request(purge_id: str) -> Request:
    return Request("GET", f"/v1/purge/{segment(purge_id)}")


def json_body(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = check(response).json()
    return body


RETRY_STATUSES = frozenset({429, 503})
MAX_RETRY_DELAY_S = 10.0


def prepare(request: Request) -> Request:
    """Every POST carries an Idempotency-Key (kept across retries), so retrying is always safe."""
    if request.method == "POST" and "Idempotency-Key" not in request.headers:
        return replace(request, headers=request.headers | {"Idempotency-Key": f"dr-{uuid.uuid4().hex}"})
    return request


def retry_delay(response: httpx.Response | None, attempt: int) -> float:
    """Honour ``Retry-After`` (429/503); otherwise exponential backoff from 0.25 s."""
    header: str | None = response.headers.get("retry-after") if response is not None else None
    if header and header.strip().isdigit():
        return min(MAX_RETRY_DELAY_S, float(header))
    return min(MAX_RETRY_DELAY_S, 0.25 * 2.0**attempt)


def should_retry(response: httpx.Response | None, attempt: int, retries: int) -> bool:
    if attempt >= retries:
        return False
    return response is None or response.status_code in RETRY_STATUSES


def translate_transport_error(exc: httpx.TransportError) -> DarkroomError:
    try:
        url = exc.request.url
        where = f" at {url.scheme}://{url.netloc.decode()}"
    except RuntimeError:  # raised outside a request: no URL to name
        where = ""
    return Unavailable(f"Cannot reach the Darkroom API{where}: {type(exc).__name__}.")


def check(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_from_body(response.status_code, body)


def parse_image(response: httpx.Response) -> Image:
    """An Image answer; a failed image (422 with the Image inside) is returned, not raised."""
    if response.status_code == 422:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("image"), dict):
            return Image.model_validate(body["image"])
    return Image.model_validate(check(response).json())


def parse_page(response: httpx.Response) -> ImagePage:
    body = check(response).json()
    return ImagePage(
        data=[Image.model_validate(i) for i in body["data"]], next_cursor=body.get("next_cursor")
    )


def auth_headers(api_key: str) -> dict[str, str]:
    return {"x-api-key": api_key, "user-agent": "darkroom-python"}
