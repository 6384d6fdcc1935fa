"""``/dashboard``: the ops page — queues, workers, recent images, failures, dead-letter requeue.

Server-rendered HTML (:mod:`jobs.api.dashboard_view`), no build step. One first-party script,
``/dashboard/charts.js``, refreshes the trend charts from ``/dashboard/charts`` (the same
numbers as JSON: ``/dashboard/trends.json``); the CSP allows scripts and fetches from this
origin only. Access and roles are described in :mod:`jobs.api.dashboard_auth`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from jobs.api.auth import Ctx, check_attempt, client_host
from jobs.api.dashboard_auth import (
    COOKIE,
    SESSION_TTL_S,
    Viewer,
    check_csrf,
    csrf_token,
    issue,
    login_with_key,
    verify,
)
from jobs.api.dashboard_view import DashboardData, render_charts, render_dashboard, render_login
from jobs.contract.constants import CONTENT_TYPES, Queue
from jobs.contract.errors import NotFound, RateLimited, Unauthorized
from jobs.contract.ids import is_image_id
from jobs.services.admin.dead_letters import DeadLetter

CHARTS_JS = (resources.files("jobs.api") / "templates" / "charts.js").read_bytes()

router = APIRouter(prefix="/dashboard", include_in_schema=False)
RECENT_IMAGES = 24
RECENT_FAILURES = 10
DEAD_PER_QUEUE = 10
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _session(request: Request, ctx: Ctx) -> tuple[Viewer | None, str]:
    token = request.cookies.get(COOKIE, "")
    return verify(ctx.settings, token), token


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def _signed_in(request: Request, ctx: Ctx, viewer: Viewer) -> RedirectResponse:
    response = RedirectResponse("/dashboard", status_code=303, headers=SECURITY_HEADERS)
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        COOKIE,
        issue(ctx.settings, viewer),
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/dashboard",
    )
    return response


async def login_throttled(request: Request, ctx: Ctx, viewer: Viewer | None) -> Response | None:
    """429 while this address's failed logins are spent (right keys too); a failure spends one."""
    try:
        await check_attempt(ctx, client_host(request.scope), succeeded=viewer is not None)
    except RateLimited as exc:
        page = _html(render_login(f"Too many failed sign-ins; retry in {exc.retry_after} s."), 429)
        page.headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return page
    return None


@router.get("/login")
async def login_page(request: Request, ctx: Ctx, token: str | None = None) -> Response:
    """The sign-in form, or a login link from ``darkroom dashboard-link`` (``?token=``)."""
    if token is not None:
        viewer = verify(ctx.settings, token, use="login")
        if refused := await login_throttled(request, ctx, viewer):
            return refused
        if viewer is None:
            return _html(render_login("This login link is invalid or has expired."), 401)
        return _signed_in(request, ctx, viewer)
    return _html(render_login())


@router.post("/login")
async def login(request: Request, ctx: Ctx, key: Annotated[str, Form(max_length=512)]) -> Response:
    viewer = login_with_key(ctx.settings, key.strip())
    if refused := await login_throttled(request, ctx, viewer):
        return refused
    if viewer is None:
        return _html(render_login("That key is not valid."), 401)
    return _signed_in(request, ctx, viewer)


@router.post("/logout")
async def logout(request: Request, ctx: Ctx, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    _, token = _session(request, ctx)
    response = RedirectResponse("/dashboard/login", status_code=303, headers=SECURITY_HEADERS)
    if token and check_csrf(ctx.settings, token, csrf):
        response.delete_cookie(COOKIE, path="/dashboard")
    return response


@router.get("")
async def dashboard(
    request: Request,
    ctx: Ctx,
    requeued: Annotated[int | None, Query(ge=0)] = None,
    dropped: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    viewer, token = _session(request, ctx)
    if viewer is None:
        return RedirectResponse("/dashboard/login", status_code=303, headers=SECURITY_HEADERS)
    overview = ctx.overview
    snapshot = await overview.snapshot()
    if viewer.operator:
        accounts = await overview.active_accounts()
        failures = await overview.recent_failures(None, RECENT_FAILURES)
        dead: list[DeadLetter] = []
        for queue in Queue:
            dead += await overview.dead_letters(queue, DEAD_PER_QUEUE)
    else:
        assert viewer.account is not None
        accounts = {viewer.account}
        failures = await overview.recent_failures(accounts, RECENT_FAILURES)
        dead = []
        # the snapshot's oldest processing image is anyone's: an account sees only its own
        snapshot = replace(snapshot, oldest_processing=await overview.oldest_processing(viewer.account))
    flash = None
    if requeued is not None:
        flash = f"Requeued {requeued} dead letter(s); dropped {dropped or 0} whose image had moved on."
    data = DashboardData(
        viewer=viewer,
        snapshot=snapshot,
        recent=await overview.recent_images(accounts, RECENT_IMAGES),
        failures=failures,
        dead=sorted(dead, key=lambda d: -d.dead_at_ms),
        csrf=csrf_token(ctx.settings, token),
        flash=flash,
        trends=await overview.trends(),
    )
    return _html(render_dashboard(data))


@router.get("/trends.json")
async def trends_json(request: Request, ctx: Ctx) -> Response:
    """Per queue, the last hour's jobs done/failed per minute and p50/p95 durations. Queues are
    shared, so every signed-in viewer sees the same numbers, like the queue depths."""
    viewer, _ = _session(request, ctx)
    if viewer is None:
        raise Unauthorized("Sign in to the dashboard first.")
    return JSONResponse((await ctx.overview.trends()).as_dict(), headers=SECURITY_HEADERS)


@router.get("/charts")
async def charts(request: Request, ctx: Ctx) -> Response:
    """The charts fragment that ``charts.js`` swaps in every 10 s."""
    viewer, _ = _session(request, ctx)
    if viewer is None:
        return _html(render_login("Your session has expired; sign in again."), 401)
    return _html(render_charts(await ctx.overview.trends()))


@router.get("/charts.js")
async def charts_js() -> Response:
    """The dashboard's only script, from the package (no CDN); public like any static file."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=300"}
    return Response(CHARTS_JS, media_type="text/javascript", headers=headers)


@router.post("/requeue")
async def requeue(
    request: Request,
    ctx: Ctx,
    queue: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=64)],
) -> Response:
    """Operators only: replay a queue's dead letters (``all`` for every queue)."""
    viewer, token = _session(request, ctx)
    if viewer is None or not check_csrf(ctx.settings, token, csrf):
        return _html(render_login("Your session has expired; sign in again."), 401)
    if not viewer.operator:
        return _html(render_login("Requeueing needs the operator key (DARKROOM_ADMIN_KEY)."), 403)
    try:
        queues = list(Queue) if queue == "all" else [Queue.parse(queue)]
    except ValueError:
        return _html(render_login(f"Unknown queue {queue[:64]!r}."), 400)
    report = await ctx.overview.requeue(queues)
    target = f"/dashboard?requeued={report.total_requeued}&dropped={sum(report.dropped.values())}"
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


@router.get("/thumbs/{image_id}")
async def thumbnail(request: Request, ctx: Ctx, image_id: str) -> Response:
    """The ``small`` size of a ready image the viewer may see."""
    viewer, _ = _session(request, ctx)
    if viewer is None or not is_image_id(image_id):
        raise NotFound("No such thumbnail.")
    found = await ctx.thumbnail(image_id, None if viewer.operator else viewer.account)
    headers = {"Cache-Control": "private, max-age=300"}
    return Response(found.data, media_type=CONTENT_TYPES[found.format], headers=headers)
