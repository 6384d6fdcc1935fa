"""``/docs`` and ``/redoc`` render in headless Chromium with no internet; then a screenshot.

The browser reaches 127.0.0.1 only (:data:`tests.support.browser.OFFLINE`): a page that loads
Swagger UI from a CDN stays blank. Run with ``DARKROOM_UPDATE_SCREENSHOT=1`` to refresh
``docs/swagger-offline.png``.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from jobs.contract.settings import Settings
from tests.support.browser import OFFLINE, dump_dom, require_chromium, screenshot
from tests.support.stack import ROOT, start_api, with_free_http_port

pytestmark = pytest.mark.e2e
SCREENSHOT = ROOT / "docs" / "swagger-offline.png"
MAX_SCREENSHOT_BYTES = 300_000  # committed to the repository


def rendered_paths(dom: str) -> set[str]:
    """The operations Swagger UI drew: one ``opblock-summary-path`` per method and path."""
    return {html.unescape(p) for p in re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom)}


def operation_ids(spec: dict[str, Any]) -> set[str]:
    return {str(op["operationId"]) for ops in spec["paths"].values() for op in ops.values()}


def save_small(shot: Path, target: Path) -> None:
    """The screenshot as a palette PNG: a few dozen KB instead of a few hundred."""
    image = PILImage.open(shot).convert("RGB").quantize(colors=128)
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    assert len(buf.getvalue()) < MAX_SCREENSHOT_BYTES
    target.write_bytes(buf.getvalue())


def test_docs_render_without_internet(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    chromium = require_chromium()
    settings = with_free_http_port(make_settings())
    api, base_url = start_api(settings, tmp_path)
    try:
        spec = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
        documented = set(spec["paths"])

        dom = dump_dom(chromium, f"{base_url}/docs", flags=OFFLINE)
        assert 'id="swagger-ui"' in dom
        assert "Unable to render this definition" not in dom
        assert re.search(r'<h[12] class="title">\s*Darkroom', dom), dom[:3000]
        assert rendered_paths(dom) == documented, dom[:3000]

        # ReDoc gives every operation a section named after its operationId
        redoc = dump_dom(chromium, f"{base_url}/redoc", flags=OFFLINE)
        drawn = set(re.findall(r'data-section-id="[^"]*operation/([^"]+)"', redoc))
        assert drawn == operation_ids(spec), redoc[:3000]

        shot = screenshot(chromium, f"{base_url}/docs", tmp_path / "docs.png", flags=OFFLINE)
        picture = PILImage.open(shot).convert("RGB")
        assert picture.size == (1280, 900)
        colours = picture.getcolors(maxcolors=1 << 16)
        # a blank page is one colour; Swagger UI draws text and coloured method badges
        assert colours is None or len(colours) > 50, f"{len(colours)} colours: the page looks blank"
        if os.environ.get("DARKROOM_UPDATE_SCREENSHOT") == "1":
            save_small(shot, SCREENSHOT)
    finally:
        api.stop()
