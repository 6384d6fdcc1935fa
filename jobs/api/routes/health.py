"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from jobs.api.auth import Ctx
from jobs.api.schemas import HealthBody

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 2.0


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up (no dependency checks)."""
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await probe
    except Exception as exc:
        return name, f"down: {type(exc).__name__}"
    return name, "ok"


@router.get("/health", response_model=HealthBody, responses={503: {"model": HealthBody}})
@router.get("/health/ready", response_model=HealthBody, responses={503: {"model": HealthBody}})
async def ready(ctx: Ctx) -> JSONResponse:
    """Ready to take work: Redis and storage answer. 503 otherwise."""
    checks = dict(
        await asyncio.gather(
            _check("redis", ctx.ping()),
            _check("storage", ctx.probe_storage()),
        )
    )
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
