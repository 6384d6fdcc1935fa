"""``/v1/images``: upload (multipart or URL), get with long-poll, list, download."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from jobs.api import json_depth, raw_upload
from jobs.api.auth import Account, Ctx
from jobs.api.context import get_ctx
from jobs.api.idempotency import IdempotentRoute, body_sha256
from jobs.api.raw_upload import RawBodyRoute
from jobs.api.schemas import (
    CreateFromUrl,
    ErrorBody,
    FailedImageBody,
    ImageList,
    TransformRequest,
)
from jobs.api.upload_text import UploadForm, query_options, upload_options
from jobs.contract.constants import CONTENT_TYPES
from jobs.contract.errors import InvalidRequest, MediaFailed
from jobs.contract.models import Image
from jobs.contract.states import Status
from jobs.contract.upload_options import MAX_FILENAME_CHARS, ImageOptions, UploadOptions
from jobs.plumbing.store import ListQuery
from jobs.plumbing.store.listing import MAX_LIMIT, SORTS

MAX_WAIT_S = 30.0
router = APIRouter(prefix="/v1/images", tags=["images"], route_class=IdempotentRoute)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 429, 503)
}


def image_response(image: Image, status_code: int = 200) -> JSONResponse:
    """An Image answer; a failed image is a 422 ``media_failed`` with the Image inside."""
    body: dict[str, Any] = json.loads(image.to_json())
    if image.status == Status.FAILED:
        error = image.error
        message = error.message if error else MediaFailed.default_message
        return JSONResponse(
            {"status": 422, "error": "media_failed", "message": message, "image": body}, status_code=422
        )
    return JSONResponse(body, status_code=status_code, headers={"ETag": f'W/"{image.version}"'})


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json_depth.loads(raw, "metadata")
    except InvalidRequest as exc:
        raise InvalidRequest("metadata must be a JSON object.", field="metadata") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("metadata must be a JSON object.", field="metadata")
    return value


def options_from(body: ImageOptions) -> UploadOptions:
    """The options a JSON request body carries (the multipart upload reads them from its form)."""
    return UploadOptions.model_validate(body.model_dump(include=set(ImageOptions.model_fields)))


async def upload_raw(request: Request, account: str) -> JSONResponse:
    """The raw-body form of the upload: the body is the file, the options are query parameters."""
    ctx = get_ctx(request)
    data = await request.body()
    options = upload_options(query_options(request), parse_metadata)
    image = await ctx.intake.upload_bytes(account, data, options, checksum=await body_sha256(request))
    return image_response(image, 202)


class UploadRoute(IdempotentRoute, RawBodyRoute):
    raw_handler = staticmethod(upload_raw)


async def upload_file(
    request: Request,
    ctx: Ctx,
    account: Account,
    file: Annotated[UploadFile, File(description="The image bytes.")],
    form: Annotated[UploadForm, Form()],
) -> JSONResponse:
    text = query_options(request) | form.model_dump(exclude_unset=True)  # a form field wins
    if file.filename:  # the file part's name wins; its base name (the end) is what is kept
        text["filename"] = file.filename[-MAX_FILENAME_CHARS:]
    options = upload_options(text, parse_metadata)
    data = await file.read(ctx.settings.max_input_bytes + 1)
    image = await ctx.intake.upload_bytes(account, data, options)
    return image_response(image, 202)


router.add_api_route(
    "/upload",
    upload_file,
    methods=["POST"],
    status_code=202,
    response_model=Image,
    responses=ERRORS | {415: {"model": ErrorBody}},
    description=(
        "Upload an image file; processing continues in the background (status `processing`).\n\n"
        "Send it as a multipart form (`file` and the form fields), or as the raw body with "
        "`Content-Type: application/octet-stream` (or any `image/*`); any other type, or none, is a "
        "415 that says so. The options may also be "
        "query parameters; a form field wins over the query parameter of the same name."
    ),
    openapi_extra=raw_upload.openapi_extra(),
    route_class_override=UploadRoute,
)


@router.post("", status_code=202, response_model=Image, responses=ERRORS)
async def upload_from_url(ctx: Ctx, account: Account, body: CreateFromUrl) -> JSONResponse:
    """Create an image from a public http(s) URL, fetched by a worker."""
    image = await ctx.intake.upload_url(account, body.url, options_from(body))
    return image_response(image, 202)


@router.post(
    "/{image_id}/transform",
    status_code=202,
    response_model=Image,
    responses=ERRORS | {422: {"model": ErrorBody, "description": "The parent image failed."}},
)
async def transform(ctx: Ctx, account: Account, image_id: str, body: TransformRequest) -> JSONResponse:
    """Render a ready image through operations into a **new** image with the parent's name."""
    image = await ctx.intake.transform(account, image_id, body.operations, options_from(body))
    return image_response(image, 202)


@router.get("", response_model=ImageList, responses=ERRORS)
async def list_account_images(
    ctx: Ctx,
    account: Account,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=512, description="The `next_cursor` of the previous page, as is.")
    ] = None,
    sort: Annotated[
        str, Query(pattern="^-?(created_at|name)$", description=", ".join(SORTS))
    ] = "-created_at",
    name: Annotated[str | None, Query(alias="filter[name]", max_length=255)] = None,
    status: Annotated[Status | None, Query(alias="filter[status]")] = None,
) -> ImageList:
    """Your images, newest first by default; failed images only when `filter[status]=failed`."""
    query = ListQuery(limit=limit, cursor=cursor, sort=sort, name=name, status=status)  # type: ignore[arg-type]
    page = await ctx.list(account, query)
    return ImageList(data=page.data, next_cursor=page.next_cursor)


@router.get(
    "/{image_id}",
    response_model=Image,
    responses=ERRORS | {422: {"model": FailedImageBody, "description": "The image failed."}},
)
async def get_image(
    ctx: Ctx,
    account: Account,
    image_id: str,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_S, description="Long-poll up to N s while processing.")
    ] = 0,
) -> JSONResponse:
    """One image. With `wait`, answers as soon as it leaves `processing` (or when `wait` runs out)."""
    if wait > 0:
        record = await ctx.wait_record(account, image_id, wait)
    else:
        record = await ctx.record(account, image_id)
    return image_response(record.image)


@router.get(
    "/{image_id}/download",
    response_class=Response,
    responses=ERRORS
    | {200: {"content": {ct: {} for ct in CONTENT_TYPES.values()}}, 422: {"model": ErrorBody}},
)
async def download(
    ctx: Ctx,
    account: Account,
    image_id: str,
    size: Annotated[str | None, Query(pattern="^(small|medium|large)$")] = None,
) -> Response:
    """The stored bytes: the master, or one of the responsive sizes."""
    found = await ctx.download(account, image_id, size)
    headers = {"Cache-Control": "private, max-age=3600"}
    if found.etag is not None:
        headers["ETag"] = f'"{found.etag}"'
    return Response(found.data, media_type=CONTENT_TYPES[found.format], headers=headers)
