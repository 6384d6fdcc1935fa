"""API keys: ``x-api-key: KEY`` or ``Authorization: Bearer KEY``; each key maps to an account."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from jobs.api.context import ApiContext, get_ctx
from jobs.api.ratelimit import enforce_rate_limit
from jobs.errors import Unauthorized

api_key_header = APIKeyHeader(name="x-api-key", auto_error=False, description="Your API key.")
bearer = HTTPBearer(auto_error=False, description="Your API key as a Bearer token.")


def account_for(key: str, keys: dict[str, str]) -> str | None:
    """Constant-time lookup: every configured key is compared, match or not."""
    found: str | None = None
    given = key.encode()
    for candidate, account in keys.items():
        if hmac.compare_digest(given, candidate.encode()):
            found = account
    return found


async def require_account(
    request: Request,
    ctx: Annotated[ApiContext, Depends(get_ctx)],
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    key = api_key or (credentials.credentials if credentials else None)
    if not key:
        raise Unauthorized("Missing API key: send x-api-key or Authorization: Bearer.")
    account = account_for(key, ctx.settings.api_keys)
    if account is None:
        raise Unauthorized("Invalid API key.")
    request.state.account = account
    await enforce_rate_limit(ctx, key, request)
    return account


Account = Annotated[str, Depends(require_account)]
Ctx = Annotated[ApiContext, Depends(get_ctx)]
