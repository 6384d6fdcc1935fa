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


def key_from_headers(request: Request) -> str | None:
    """The API key a request presents: ``x-api-key``, else ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth[:7].lower() == "bearer ":
        key = auth[7:].strip()
    return key or None


async def authenticate(request: Request, ctx: ApiContext, key: str | None) -> str:
    """The account of ``key`` (and one rate-limit token), or ``Unauthorized``."""
    if not key:
        raise Unauthorized("Missing API key: send x-api-key or Authorization: Bearer.")
    account = account_for(key, ctx.settings.api_keys)
    if account is None:
        raise Unauthorized("Invalid API key.")
    request.state.account = account
    await enforce_rate_limit(ctx, key, request)
    return account


async def require_account(
    request: Request,
    ctx: Annotated[ApiContext, Depends(get_ctx)],
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    return await authenticate(request, ctx, api_key or (credentials.credentials if credentials else None))


Account = Annotated[str, Depends(require_account)]
Ctx = Annotated[ApiContext, Depends(get_ctx)]
