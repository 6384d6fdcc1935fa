"""``GET /metrics``: Prometheus exposition of the API process plus the system gauges.

Unauthenticated, like ``/health``: scrape it from inside the cluster and keep it off the
public ingress (docs/operations.md). Queue, worker and image gauges are read from Redis on
every scrape (image counts are cached for up to 10 s, see :mod:`jobs.services.admin.images`).
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter
from fastapi.responses import Response

from jobs.api.auth import Ctx
from jobs.services.admin.metrics import CONTENT_TYPE_LATEST, exposition
from jobs.services.admin.stats import Snapshot

router = APIRouter(tags=["ops"])
log = structlog.get_logger(__name__)
SCRAPE_TIMEOUT_S = 5.0


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(ctx: Ctx) -> Response:
    """Prometheus metrics: HTTP requests of this process, queue depths, workers, images by status."""
    snapshot: Snapshot | None
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_S):
            snapshot = await ctx.overview.snapshot()
    except Exception as exc:  # Redis down: still answer, with darkroom_redis_up 0
        log.warning("metrics.redis_unavailable", error=str(exc)[:200])
        snapshot = None
    return Response(exposition(snapshot), media_type=CONTENT_TYPE_LATEST)
