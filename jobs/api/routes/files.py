"""``/files/...``: published files, served by the API from whatever storage holds them.

``PUBLIC_BASE_URL`` defaults to ``{api}/files``, so a published ``url`` works out of the
box with either backend. Local storage streams the file from disk; S3 reads the object
through the API. In production with S3, point ``PUBLIC_BASE_URL`` at the bucket's
``public/`` path or a CDN in front of it, and these requests never reach the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from jobs.api.auth import Ctx
from jobs.api.schemas import ErrorBody
from jobs.contract.constants import CONTENT_TYPES, EXTENSION_FORMATS
from jobs.contract.errors import InvalidRequest, NotFound, ObjectNotFound
from jobs.plumbing.storage import validate_key
from jobs.plumbing.storage.local import LocalStorage
from jobs.services.publication import PUBLIC_ROOT

router = APIRouter(tags=["files"])
CACHE_CONTROL = "public, max-age=300"


def _media_type(key: str) -> str:
    extension = key.rpartition(".")[2]
    return CONTENT_TYPES.get(EXTENSION_FORMATS.get(extension, ""), "application/octet-stream")


@router.get(
    "/files/{path:path}",
    response_class=Response,
    responses={200: {"content": {ct: {} for ct in CONTENT_TYPES.values()}}, 404: {"model": ErrorBody}},
)
async def public_file(ctx: Ctx, request: Request, path: str) -> Response:
    """A published file (master or size): 404 once the image is unpublished or deleted."""
    try:
        key = validate_key(PUBLIC_ROOT + path)
    except InvalidRequest as exc:
        raise NotFound("No such file.") from exc
    headers = {"Cache-Control": CACHE_CONTROL}
    if isinstance(ctx.storage, LocalStorage):
        file = ctx.storage.path_for(key)
        if not file.is_file():
            raise NotFound("No such file.")
        return FileResponse(file, media_type=_media_type(key), headers=headers)
    info = await ctx.storage.head(key)
    if info is None:
        raise NotFound("No such file.")
    if info.etag:
        headers["ETag"] = f'"{info.etag.strip(chr(34))}"'
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
    try:
        data = await ctx.storage.get(key)
    except ObjectNotFound as exc:  # unpublished between head and get
        raise NotFound("No such file.") from exc
    return Response(data, media_type=_media_type(key), headers=headers)
