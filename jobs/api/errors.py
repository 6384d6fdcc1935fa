"""The error model on the wire: ``{"status", "error", "message"}``; never a stack trace."""

from __future__ import annotations

import math
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobs.contract.errors import CODE_BY_STATUS, DarkroomError, Internal, InvalidRequest, RateLimited

log = structlog.get_logger(__name__)

# the error tree's codes by status (jobs/contract/errors.py); a 405 from the router is a bad request too
HTTP_CODES = CODE_BY_STATUS | {405: InvalidRequest.code}


def error_response(error: DarkroomError, **extra: Any) -> JSONResponse:
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="darkroom"'
    return JSONResponse(error.to_dict() | extra, status_code=error.status, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DarkroomError)
    async def _darkroom(request: Request, exc: DarkroomError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("http.error", error_code=exc.code, error_message=exc.message, path=request.url.path)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())))
        message = f"{field}: {first.get('msg', 'invalid')}"
        return JSONResponse(
            {"status": 400, "error": "invalid_request", "message": message, "field": field}, 400
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "internal" if exc.status_code >= 500 else "invalid_request")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            {"status": exc.status_code, "error": code, "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("http.unexpected", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
        return error_response(Internal())
