"""``/v1/webhook-secret``: your account's webhook signing secret (:mod:`jobs.services.webhook_secrets`).

``GET`` tells where the secret stands, never the secret; ``POST …/rotate`` makes a new one
and shows it, once. Idempotency-Key works as on every POST: a retried rotation with the
same key answers the same secret instead of rotating twice.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from jobs.api.auth import Account, Ctx
from jobs.api.idempotency import IdempotentRoute
from jobs.api.schemas import ErrorBody
from jobs.services.webhook_secrets import master_secret

router = APIRouter(prefix="/v1/webhook-secret", tags=["webhooks"], route_class=IdempotentRoute)
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 429, 500, 503)}

STATE_EXAMPLE: dict[str, JsonValue] = {
    "signing": "account",
    "generation": 2,
    "rotated_at": "2026-01-01T00:00:00Z",
    "previous_valid_until": "2026-01-02T00:00:00Z",
}


class WebhookSecretState(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [STATE_EXAMPLE]})

    signing: str = Field(
        description="`account`: your deliveries are signed with your own secret; `shared`: with the "
        "deployment's `WEBHOOK_SECRET` (one-account deployments), which this API never shows."
    )
    generation: int | None = Field(description="How many times your secret was rotated (null when shared).")
    rotated_at: str | None = Field(description="ISO-8601 UTC time of the last rotation; null if never.")
    previous_valid_until: str | None = Field(
        description="Until then deliveries also carry a signature under the previous secret "
        "(`t=…,v1=new,v1=old`); null when no overlap is running."
    )


class RotatedWebhookSecret(WebhookSecretState):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"secret": "whsec_" + "x" * 43, **STATE_EXAMPLE}]}
    )

    secret: str = Field(
        description="Your new signing secret, shown this once: verify `Darkroom-Signature` with it."
    )


@router.get("", response_model=WebhookSecretState, responses=ERRORS)
async def webhook_secret_state(ctx: Ctx, account: Account) -> dict[str, object]:
    """Where your webhook signing secret stands: its generation and rotation (never the secret)."""
    master_secret(ctx.settings)  # unset → 500 naming the setting, not a state nothing signs with
    if ctx.settings.webhook_signing == "shared":
        return {"signing": "shared", "generation": None, "rotated_at": None, "previous_valid_until": None}
    state = await ctx.webhook_secret_state(account)
    return {"signing": "account", **state.as_dict(time.time())}


@router.post("/rotate", response_model=RotatedWebhookSecret, responses=ERRORS | {409: {"model": ErrorBody}})
async def rotate_webhook_secret(ctx: Ctx, account: Account) -> dict[str, object]:
    """A new webhook signing secret for your account, shown once.

    Deliveries are signed with the new secret at once, and with the previous one as well for
    `WEBHOOK_SECRET_OVERLAP_HOURS` (default 24): switch your receiver within that window.
    Rotating again ends the previous overlap. 409 when the deployment signs with one shared secret.
    """
    now = time.time()
    secret, state = await ctx.rotate_webhook_secret(account, now)
    return {"secret": secret, "signing": "account", **state.as_dict(now)}
