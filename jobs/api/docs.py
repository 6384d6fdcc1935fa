"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with their scripts from a package.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so without internet ``/docs`` is a
blank page. The same pages here reference only ``/docs/assets/...``: the files of the
``fastapi-offline`` package (Swagger UI 5, which renders OpenAPI 3.1, and ReDoc), mounted
as static files. Like ``/openapi.json`` they are public: the API key gate covers ``/v1/`` only.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"
ASSETS_URL: Final = "/docs/assets"
# fastapi-offline's package data: swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png
ASSETS_DIR: Final = Path(str(files("fastapi_offline") / "static"))


def _prefix(request: Request) -> str:
    """Behind a proxy that mounts the API under a path, the browser needs that path too."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add both pages; ``FastAPI(docs_url=None, redoc_url=None)`` first."""
    # check_dir: a missing asset directory (a package upgrade that moved it) fails at start-up
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR, check_dir=True), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _prefix(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # no validator badge: it would ask validator.swagger.io about the document
            swagger_ui_parameters={"validatorUrl": None} | (app.swagger_ui_parameters or {}),
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _prefix(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,  # a stylesheet from fonts.googleapis.com otherwise
        )
