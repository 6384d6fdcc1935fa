"""Dashboard POSTs are decided from the session cookie before any body byte is read.

The API key gate (:class:`jobs.api.auth.ApiKeyGate`) covers ``/v1/``; the dashboard's state
changing forms (requeue, logout) carry their credential in the session cookie, a header, so
they get the same treatment here: a stranger's form is never read or parsed. The login form
itself is the credential, so it is read (bounded by the body limit) and throttled per address
(:func:`jobs.api.auth.check_attempt`).
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobs.api.context import ApiContext
from jobs.api.dashboard_auth import COOKIE, verify
from jobs.api.dashboard_view import render_login

PREFIX: Final = "/dashboard/"
LOGIN: Final = "/dashboard/login"
LOGOUT: Final = "/dashboard/logout"


class DashboardSessionGate:
    """Pure ASGI middleware: a dashboard POST without a valid session is a 401 at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and path.startswith(PREFIX)
            and path != LOGIN
        ):
            ctx: ApiContext = scope["app"].state.ctx
            token = cookie_parser(Headers(scope=scope).get("cookie", "")).get(COOKIE, "")
            if verify(ctx.settings, token) is None:
                await _refusal(path)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(path: str) -> Response:
    if path == LOGOUT:  # nothing to log out of: where logging out leads anyway
        return RedirectResponse(LOGIN, status_code=303, headers={"Cache-Control": "no-store"})
    page = render_login("Your session has expired; sign in again.")
    return HTMLResponse(page, status_code=401, headers={"Cache-Control": "no-store"})
