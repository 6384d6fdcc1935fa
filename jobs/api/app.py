"""``create_app(settings)``: the FastAPI application, with its ctx opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.formparsers import MultiPartParser

from jobs import __version__
from jobs.api.auth import ApiKeyGate
from jobs.api.body_limit import MULTIPART_OVERHEAD, BodyLimit, body_limits
from jobs.api.context import ApiContext
from jobs.api.dashboard_gate import DashboardSessionGate
from jobs.api.docs import install_docs
from jobs.api.errors import install_error_handlers
from jobs.api.json_depth import JsonDepthLimit
from jobs.api.openapi import install_openapi
from jobs.api.ratelimit import RateLimitHeaders
from jobs.api.request_metrics import RequestMetrics
from jobs.api.routes import (
    dashboard,
    files,
    health,
    images,
    lifecycle,
    metrics,
    render,
    webhook_secret,
    webhooks,
)
from jobs.contract.settings import Settings

DESCRIPTION = """Darkroom: an asynchronous image-processing job queue.

Send work, get an **Image** whose `status` moves `processing → ready | failed`.
Authenticate with `x-api-key: KEY` or `Authorization: Bearer KEY`.
Errors are `{"status", "error", "message"}`."""


def keep_uploads_in_memory(settings: Settings) -> None:
    """Starlette spools multipart files over 1 MiB to a temp file (a write and a read of every
    byte, in thread-pool hops); uploads are read whole into memory anyway, up to
    ``MAX_INPUT_BYTES`` (the body limit refuses more before it is read)."""
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, settings.max_input_bytes + 64 * 1024)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ctx = await ApiContext.open(settings)
        try:
            yield
        finally:
            await app.state.ctx.close()

    app = FastAPI(
        title="Darkroom",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: ours are served locally
        redoc_url=None,
    )
    app.state.settings = settings
    keep_uploads_in_memory(settings)
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    app.include_router(images.router)
    app.include_router(lifecycle.router)
    app.include_router(render.router)
    app.include_router(webhooks.router)
    app.include_router(webhook_secret.router)
    app.include_router(files.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(dashboard.router)
    # added first = innermost. Outermost to innermost: metrics, X-RateLimit-* headers, the API
    # key gate (401/429 from the headers), body size (413), JSON depth (400), the routes.
    app.add_middleware(JsonDepthLimit)  # buffers JSON bodies, so inside the body size limit
    limits = body_limits(settings)
    app.add_middleware(
        BodyLimit,
        max_upload_bytes=limits["max_upload_bytes"],
        max_json_bytes=limits["max_json_bytes"],
        upload_overhead=MULTIPART_OVERHEAD,
    )
    app.add_middleware(ApiKeyGate)  # before anything reads the body: strangers cost no body read
    app.add_middleware(DashboardSessionGate)  # the same for the dashboard's forms (session cookie)
    app.add_middleware(RateLimitHeaders)  # outside the gate, so its 429s carry the headers too
    app.add_middleware(RequestMetrics)  # reads no body; outermost so 401/413/429 answers are counted too
    return app
