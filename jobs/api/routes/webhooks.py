"""``GET /v1/images/{id}/webhooks``: the delivery attempts of an image's webhooks, newest first."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from jobs.api.auth import Account, Ctx
from jobs.api.schemas import ErrorBody
from jobs.contract.ids import check_image_id

router = APIRouter(prefix="/v1/images", tags=["webhooks"])


ATTEMPT_EXAMPLE: dict[str, JsonValue] = {
    "delivery_id": "dlv_1c9e0f3a7b2d4e6f8a0b1c2d",
    "event": "image.ready",
    "url": "https://hooks.example.com/darkroom",
    "attempt": 1,
    "at": "2026-01-01T00:00:00Z",
    "status_code": 200,
    "error": None,
    "duration_ms": 42,
    "delivered": True,
}


class WebhookAttempt(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ATTEMPT_EXAMPLE]})

    delivery_id: str = Field(
        description="Same on every retry of one delivery (the `Darkroom-Delivery` header)."
    )
    event: str = Field(examples=["image.ready"])
    url: str
    attempt: int = Field(description="1 for the first try of this delivery, 2 for the first retry, …")
    at: str = Field(description="ISO-8601 UTC time of the attempt.")
    status_code: int | None = Field(
        description="The receiver's HTTP status; null if none (timeout, refused)."
    )
    error: str | None
    duration_ms: int
    delivered: bool


class WebhookAttempts(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [ATTEMPT_EXAMPLE]}]})

    data: list[WebhookAttempt]


@router.get(
    "/{image_id}/webhooks",
    response_model=WebhookAttempts,
    responses={code: {"model": ErrorBody} for code in (401, 404, 429, 503)},
)
async def list_webhook_attempts(image_id: str, ctx: Ctx, account: Account) -> dict[str, Any]:
    """Webhook delivery attempts for this image (newest first, last 100, kept 7 days)."""
    attempts = await ctx.webhook_attempts(account, check_image_id(image_id))  # another account's → 404
    return {"data": [asdict(attempt) for attempt in attempts]}
