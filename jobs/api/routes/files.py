"""``/files/...``: published files, served by the API in embedded mode (local storage)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from jobs.api.auth import Ctx
from jobs.api.schemas import ErrorBody
from jobs.constants import CONTENT_TYPES, EXTENSION_FORMATS
from jobs.errors import InvalidRequest, NotFound
from jobs.publication import PUBLIC_ROOT
from jobs.storage import validate_key
from jobs.storage.local import LocalStorage

router = APIRouter(tags=["files"])


@router.get("/files/{path:path}", response_class=FileResponse, responses={404: {"model": ErrorBody}})
async def public_file(ctx: Ctx, path: str) -> FileResponse:
    """A published file (master or size). Only with local storage; S3 serves its own."""
    if not isinstance(ctx.storage, LocalStorage):
        raise NotFound("Published files are served from PUBLIC_BASE_URL with this storage.")
    try:
        key = validate_key(PUBLIC_ROOT + path)
    except InvalidRequest as exc:
        raise NotFound("No such file.") from exc
    file = ctx.storage.path_for(key)
    if not file.is_file():
        raise NotFound("No such file.")
    media_type = CONTENT_TYPES.get(
        EXTENSION_FORMATS.get(file.suffix.lstrip("."), ""), "application/octet-stream"
    )
    return FileResponse(file, media_type=media_type, headers={"Cache-Control": "public, max-age=300"})
