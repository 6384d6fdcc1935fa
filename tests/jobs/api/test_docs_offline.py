"""``/docs`` and ``/redoc`` work without internet: every script, stylesheet and icon they load
is served by the API itself, publicly, with its content type."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from jobs.api import create_app
from jobs.contract.settings import Settings

EXPECTED_TYPES = {
    ".js": "javascript",  # text/javascript or application/javascript
    ".css": "text/css",
    ".png": "image/png",
}


class AssetRefs(HTMLParser):
    """The URLs a page makes the browser load: ``<script src>`` and ``<link href>``."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.refs.append(value)


def asset_refs(html: str) -> list[str]:
    parser = AssetRefs()
    parser.feed(html)
    return parser.refs


@pytest.mark.parametrize(("page", "scripts"), [("/docs", 1), ("/redoc", 1)])
def test_docs_pages_load_nothing_from_outside(api: TestClient, page: str, scripts: int) -> None:
    answer = api.get(page)  # no API key: the docs are public
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    refs = asset_refs(answer.text)
    assert sum(ref.endswith(".js") for ref in refs) == scripts, refs
    assert any(ref.endswith(".png") for ref in refs), refs  # the favicon is ours too
    for ref in refs:
        assert "://" not in ref and not ref.startswith("//"), f"{page} loads {ref} from outside"
    # nor anything else in the page (an inline script's CDN URL, a validator badge)
    assert "http://" not in answer.text and "https://" not in answer.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_docs_asset_is_served_publicly_with_its_type(api: TestClient, page: str) -> None:
    refs = asset_refs(api.get(page).text)
    assert refs
    for ref in refs:
        answer = api.get(ref)  # no API key
        assert answer.status_code == 200, ref
        suffix = "." + ref.rsplit(".", 1)[-1]
        assert EXPECTED_TYPES[suffix] in answer.headers["content-type"], (ref, answer.headers)
        assert len(answer.content) > 100, ref  # the file itself, not an empty answer


def test_swagger_ui_asset_is_a_version_that_reads_openapi_3_1(api: TestClient) -> None:
    """Swagger UI 4 shows "Unable to render this definition" for the 3.1 document FastAPI writes."""
    assert api.get("/openapi.json").json()["openapi"].startswith("3.1")
    script = api.get("/docs/assets/swagger-ui-bundle.js").text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', script)
    assert version is not None, "no Swagger UI version in the bundle"
    assert int(version.group(1)) >= 5, version.group(0)


def test_docs_behind_a_path_prefix_point_at_the_prefixed_assets(settings: Settings) -> None:
    """Behind a proxy that mounts the API at /api (``root_path``), the page names /api/...."""
    with TestClient(create_app(settings), root_path="/api") as client:
        html = client.get("/docs").text
        refs = asset_refs(html)
        assert refs and all(ref.startswith("/api/docs/assets/") for ref in refs), refs
        assert "url: '/api/openapi.json'" in html
        assert asset_refs(client.get("/redoc").text)[0].startswith("/api/docs/assets/")
        for ref in refs:  # as the browser asks for them (ASGI: the path includes root_path)
            assert client.get(ref).status_code == 200, ref
