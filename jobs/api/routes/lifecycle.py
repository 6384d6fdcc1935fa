"""Publish, unpublish, delete and refresh an image."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobs.api.auth import Account, Ctx
from jobs.api.idempotency import IdempotentRoute
from jobs.api.routes.images import ERRORS, image_response
from jobs.api.schemas import Deleted, ErrorBody
from jobs.contract.models import Image
from jobs.services.changes import Outcome

router = APIRouter(prefix="/v1/images", tags=["lifecycle"], route_class=IdempotentRoute)
PUBLICATION_WAIT_S = 10.0
RESPONSES = ERRORS | {
    202: {"model": Image, "description": "Accepted; still running."},
    422: {"model": ErrorBody},
}


def outcome_response(outcome: Outcome) -> JSONResponse:
    return image_response(outcome.image, 200 if outcome.done else 202)


@router.post("/{image_id}/publish", response_model=Image, responses=RESPONSES)
async def publish(ctx: Ctx, account: Account, image_id: str) -> JSONResponse:
    """Copy the image and its sizes to the public location; `url` and `sizes[*].url` are set."""
    return outcome_response(await ctx.changes.publish(account, image_id, PUBLICATION_WAIT_S))


@router.post("/{image_id}/unpublish", response_model=Image, responses=RESPONSES)
async def unpublish(ctx: Ctx, account: Account, image_id: str) -> JSONResponse:
    """Remove the public copies (the CDN is told); the image stays downloadable via /download."""
    return outcome_response(await ctx.changes.unpublish(account, image_id, PUBLICATION_WAIT_S))


@router.delete("/{image_id}", status_code=202, response_model=Deleted, responses=ERRORS)
async def delete(ctx: Ctx, account: Account, image_id: str) -> Deleted:
    """Delete the image and every stored object of it. It is gone for reads at once."""
    image = await ctx.changes.delete(account, image_id)
    return Deleted(id=image.id)


@router.post("/{image_id}/refresh", status_code=202, response_model=Image, responses=ERRORS)
async def refresh(ctx: Ctx, account: Account, image_id: str) -> JSONResponse:
    """Re-fetch a URL-sourced image; reprocess it if the bytes changed."""
    return image_response(await ctx.changes.refresh(account, image_id), 202)
