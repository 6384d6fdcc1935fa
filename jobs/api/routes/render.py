"""On-demand derivatives: signed render URLs, warmup, purge."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jobs.api.auth import Account, Ctx
from jobs.api.idempotency import IdempotentRoute
from jobs.api.routes.images import ERRORS
from jobs.api.schemas import (
    ErrorBody,
    PurgeAccepted,
    PurgeRequest,
    RenderUrl,
    RenderUrlRequest,
    WarmupAccepted,
    WarmupRequest,
)
from jobs.contract.constants import CONTENT_TYPES

router = APIRouter(tags=["render"], route_class=IdempotentRoute)
# warmup and purge take render URLs: a bad signature is a 403, whether or not the image exists
URL_ERRORS = ERRORS | {403: {"model": ErrorBody, "description": "A render URL's signature is invalid."}}
CACHE_CONTROL = "public, max-age=86400"


@router.get(
    "/render/{rest:path}",
    response_class=Response,
    responses={
        200: {"content": {ct: {} for ct in CONTENT_TYPES.values()}},
        403: {"model": ErrorBody, "description": "Bad signature (whether or not the image exists)."},
        404: {"model": ErrorBody},
        503: {"model": ErrorBody, "description": "Still rendering."},
    },
)
async def render(ctx: Ctx, request: Request, rest: str) -> Response:
    """`/render/{signature}/{options}/{id}.{ext}`: the derivative, rendered once and cached.

    The signature is checked before the image is looked up: a bad one is a 403 for any id,
    so a render URL never tells whether an image exists. A valid URL whose image is gone is a 404.
    """
    result = await ctx.rendering.serve(request.url.path)
    etag = f'"{result.digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "X-Darkroom-Cache": "hit" if result.from_cache else "miss",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(result.data, media_type=CONTENT_TYPES[result.format], headers=headers)


@router.post("/v1/images/{image_id}/render-url", response_model=RenderUrl, responses=ERRORS)
async def render_url(ctx: Ctx, account: Account, image_id: str, body: RenderUrlRequest) -> RenderUrl:
    """A signed render URL for one of your images (nothing is rendered until it is requested)."""
    record = await ctx.record(account, image_id)
    return RenderUrl(url=ctx.rendering.sign_url(record, body.operations, body.format))


@router.post("/v1/warmup", status_code=202, response_model=WarmupAccepted, responses=URL_ERRORS)
async def warmup(ctx: Ctx, account: Account, body: WarmupRequest) -> WarmupAccepted:
    """Pre-render render URLs into the cache."""
    return WarmupAccepted(**await ctx.rendering.warmup(account, body.urls))


@router.post("/v1/purge", status_code=202, response_model=PurgeAccepted, responses=URL_ERRORS)
async def purge(ctx: Ctx, account: Account, body: PurgeRequest) -> PurgeAccepted:
    """Invalidate cached derivatives: one image, listed render URLs, or your whole account."""
    purge_id = await ctx.rendering.purge(account, body.scope, body.image_id, body.urls)
    return PurgeAccepted(purge_id=purge_id, scope=body.scope, status="queued")


@router.get("/v1/purge/{purge_id}", responses=ERRORS)
async def purge_status(ctx: Ctx, account: Account, purge_id: str) -> dict[str, object]:
    """What a purge did (`queued` until a worker ran it); 404 for another account's or an expired one."""
    return {"purge_id": purge_id} | await ctx.purge_status(account, purge_id)
