"""API keys: ``x-api-key: KEY`` or ``Authorization: Bearer KEY``; each key maps to an account.

Authentication is decided from the headers alone, before any body byte is read:
:class:`ApiKeyGate` (pure ASGI, in front of every ``/v1/`` route) answers 401 or 429 at
once, so a caller without a valid key never costs a body read, a form parse or a route.
FastAPI reads a route's body (``File``/``Form``/JSON) *before* it resolves the route's
dependencies, so a dependency alone would come too late.

One Redis call per request decides the rate limits (:mod:`jobs.api.ratelimit`):

* valid key — its address must not be throttled for failed authentications (peek), and the
  key's bucket gives a token;
* wrong key — a failed authentication of its address (429 once they are spent, else 401);
* no key — a token of the address's anonymous budget (429 once spent, else 401).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Annotated, Any, Final

import structlog
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from jobs.api.context import ApiContext, get_ctx
from jobs.api.errors import error_response
from jobs.api.ratelimit import (
    STATE_KEY,
    Bucket,
    LimiterContext,
    RateDecision,
    address_bucket,
    auth_failure_bucket,
    key_bucket,
    key_id,
    refusal,
    take_tokens,
)
from jobs.contract.errors import DarkroomError, Unauthorized

log = structlog.get_logger(__name__)

api_key_header = APIKeyHeader(name="x-api-key", auto_error=False, description="Your API key.")
bearer = HTTPBearer(auto_error=False, description="Your API key as a Bearer token.")
ACCOUNT: Final = "account"  # request.state attribute of the authenticated account
PROTECTED_PREFIXES: Final = ("/v1/",)


def account_for(key: str, keys: dict[str, str]) -> str | None:
    """Constant-time lookup: every configured key is compared, match or not."""
    found: str | None = None
    given = key.encode()
    for candidate, account in keys.items():
        if hmac.compare_digest(given, candidate.encode()):
            found = account
    return found


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The API key a request presents: ``x-api-key``, else ``Authorization: Bearer``."""
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if not key and auth[:7].lower() == "bearer ":
        key = auth[7:].strip()
    return key or None


def client_host(scope: Scope) -> str:
    """The peer's address as the server reports it (after trusted proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def throttled(ctx: LimiterContext, client: str, asks: list[Bucket | None]) -> list[RateDecision]:
    """Spend ``asks`` in one call (None = that limit is off); RateLimited if refused."""
    buckets = [b for b in asks if b is not None]
    if not buckets:
        return []
    decisions = await take_tokens(ctx.redis, buckets)
    if not decisions[0].allowed:
        raise refusal(buckets, decisions, client=client)
    return decisions


async def check_attempt(ctx: LimiterContext, client: str, *, succeeded: bool) -> None:
    """Throttle credential checks of ``client`` (API key, dashboard login): RateLimited while
    its failed authentications are spent, whatever this one's outcome; a failure spends one."""
    if not succeeded:
        log.info("http.auth_failed", client=client)
    failures = auth_failure_bucket(ctx.settings, client)
    if failures is not None:
        await throttled(ctx, client, [failures if not succeeded else failures.peek()])


async def admit(ctx: LimiterContext, key: str | None, client: str, state: dict[str, Any]) -> str:
    """The account of ``key`` with its rate limits spent, or Unauthorized / RateLimited.

    The key's rate decision goes into ``state`` (for ``X-RateLimit-*``), refused or not.
    """
    settings = ctx.settings
    if not key:
        await throttled(ctx, client, [address_bucket(settings, client)])
        raise Unauthorized("Missing API key: send x-api-key or Authorization: Bearer.")
    account = account_for(key, settings.api_keys)
    if account is None:
        await check_attempt(ctx, client, succeeded=False)
        raise Unauthorized("Invalid API key.")
    # one round trip: the address must not be throttled (a peek) and the key pays its token
    failures = auth_failure_bucket(settings, client)
    own = key_bucket(settings, key)
    asks = [b for b in (failures.peek() if failures else None, own) if b is not None]
    if asks:
        decisions = await take_tokens(ctx.redis, asks)
        if own is not None:
            state[STATE_KEY] = decisions[-1]
        if not decisions[0].allowed:
            raise refusal(asks, decisions, client=client, key_id=key_id(key))
    return account


async def admit_scope(scope: Scope) -> str:
    """Admit the request of ``scope`` and note its account in its state."""
    ctx: ApiContext = scope["app"].state.ctx
    state: dict[str, Any] = scope.setdefault("state", {})
    account = await admit(ctx, key_from_headers(Headers(scope=scope)), client_host(scope), state)
    state[ACCOUNT] = account
    return account


class ApiKeyGate:
    """Pure ASGI middleware: 401/429 from the headers of every request under ``prefixes``,
    before the app (and its body parsing) runs."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...] = PROTECTED_PREFIXES) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefixes):
            try:
                await admit_scope(scope)
            except DarkroomError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def authenticate(request: Request) -> str:
    """The request's account: admitted by :class:`ApiKeyGate`, or (a route outside it) now."""
    account = getattr(request.state, ACCOUNT, None)
    return account if isinstance(account, str) else await admit_scope(request.scope)


async def require_account(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    # the two security dependencies document both ways to send the key in the OpenAPI schema
    return await authenticate(request)


Account = Annotated[str, Depends(require_account)]
Ctx = Annotated[ApiContext, Depends(get_ctx)]
