"""Request and response bodies that are not the Image itself. Strict: unknown fields → 400."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from jobs.contract.constants import OutputFormat
from jobs.contract.ids import ID_PATTERN
from jobs.contract.models import Image
from jobs.contract.operations import Operation
from jobs.contract.upload_options import MAX_URL_CHARS, ImageOptions

# Form fields are text: these are the spellings a boolean accepts.
FORM_BOOLEAN: dict[str, Any] = {
    "anyOf": [
        {"type": "boolean"},
        {"type": "integer", "enum": [0, 1]},
        {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"]},
    ],
    "default": False,
}
# Form fields: like HTML forms, an empty value means "not set" (FastAPI drops it before us).
OPTIONAL_DATETIME_FIELD: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "maxLength": 0},
        {"type": "null"},
    ],
    "description": "ISO-8601 date-time with a timezone, in the future; empty means not set.",
}


def _unchanged(value: Any) -> Any:
    return value


# Validated as a plain object here and as an operation by the route (validate_operations), so a
# bad one is answered 400 naming `operations[i].field`; the schema still publishes each `op`'s
# own model (a union discriminated on `op`) so clients and /docs see every parameter.
OperationBody = Annotated[dict[str, Any], BeforeValidator(_unchanged, json_schema_input_type=Operation)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateFromUrl(ImageOptions):
    url: str = Field(max_length=MAX_URL_CHARS, examples=["https://example.com/photos/hero.jpg"])


class TransformRequest(ImageOptions):
    operations: list[OperationBody] = Field(
        min_length=1,
        description="Operations applied in order (at most 10); see Operations for each `op`'s parameters.",
        examples=[[{"op": "resize", "width": 300}, {"op": "convert", "format": "webp", "quality": 80}]],
    )


class RenderUrlRequest(Strict):
    operations: list[OperationBody] = Field(
        default_factory=list, max_length=10, examples=[[{"op": "resize", "width": 300}]]
    )
    format: OutputFormat = Field(examples=["webp"])


class RenderUrl(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://img.example.com/render/Qm9ndXMtc2lnbmF0dXJlLWZvci1kb2NzLW9ubHktd2l0aC10YWctMDAwMDA/W3sib3AiOiJyZXNpemUiLCJ3aWR0aCI6MzAwfV0/image_3kq2w7n5m4x6z2c2v6b4n4m7.webp"
                }
            ]
        }
    )

    url: str = Field(description="Signed render URL; anyone holding it can fetch the derivative.")


class WarmupRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "urls": [
                        "https://img.example.com/render/Qm9ndXMtc2lnbmF0dXJlLWZvci1kb2NzLW9ubHktd2l0aC10YWctMDAwMDA/W3sib3AiOiJyZXNpemUiLCJ3aWR0aCI6MzAwfV0/image_3kq2w7n5m4x6z2c2v6b4n4m7.webp"
                    ]
                }
            ]
        },
    )

    urls: list[str] = Field(min_length=1, max_length=100, description="Render URLs to pre-render.")


class WarmupAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"queued": 2, "cached": 1, "in_progress": 0}]})

    queued: int
    cached: int
    in_progress: int


class PurgeRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"scope": "image", "image_id": "image_3kq2w7n5m4x6z2c2v6b4n4m7"}]},
    )

    scope: Literal["image", "urls", "all"]
    image_id: str | None = Field(default=None, pattern=ID_PATTERN.pattern, description="scope=image only.")
    urls: list[str] = Field(default_factory=list, max_length=1000)


class PurgeAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"purge_id": "3f2a9c0e5b1d7a44e2c1b9f0", "scope": "image", "status": "queued"}]
        }
    )

    purge_id: str
    scope: str
    status: str = Field(description="`queued`, then `done` (see GET /v1/purge/{purge_id}).")


class Deleted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "image_3kq2w7n5m4x6z2c2v6b4n4m7", "object": "image", "deleted": True}]
        }
    )

    id: str
    object: Literal["image"] = "image"
    deleted: bool = True


class ImageList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"data": [], "next_cursor": "eyJzIjoiLWNyZWF0ZWRfYXQiLCJwIjpbMSwiaW1hZ2VfIl19"}]
        }
    )

    data: list[Image]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ErrorBody(BaseModel):
    status: int = Field(examples=[404])
    error: str = Field(examples=["not_found"])
    message: str = Field(examples=["No image 'image_…'."])
    field: str | None = None


class HealthBody(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict, examples=[{"redis": "ok", "storage": "ok"}])


class FailedImageBody(ErrorBody):
    image: Image
