"""The public Image object (docs/design.md §2) and caller-supplied field validation.

Every field is always serialised: unknown values are ``null`` (or ``{}``), never omitted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from jobs.contract.constants import OutputFormat
from jobs.contract.errors import Conflict, MediaFailed, UnsupportedMediaType
from jobs.contract.states import Status

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 1024
MAX_NAME_CHARS = 255
MAX_CAPTION_CHARS = 2000

MetadataValue = str | int | float | bool | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_metadata(value: dict[str, Any]) -> dict[str, MetadataValue]:
    """Caller metadata limits: ≤50 keys, keys ≤64 chars, values ≤1024 chars, JSON scalars."""
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} keys")
    for key, item in value.items():
        if not key or len(key) > MAX_METADATA_KEY_CHARS:
            raise ValueError(f"keys must be 1..{MAX_METADATA_KEY_CHARS} characters ({key[:80]!r})")
        if not isinstance(item, str | int | float | bool) and item is not None:
            raise ValueError(f"value of {key!r} must be a string, number, boolean or null")
        if len(str(item)) > MAX_METADATA_VALUE_CHARS:
            raise ValueError(f"value of {key!r} is longer than {MAX_METADATA_VALUE_CHARS} characters")
    return value


Metadata = Annotated[dict[str, Any], Field(default_factory=dict)]


class ImageError(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(examples=["media_failed"])
    message: str = Field(examples=["The file is not an image (cannot identify image file)."])


class SizeVariant(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"url": None, "width": 853, "height": 640, "frames": 1, "still_reason": None}]
        },
    )

    url: str | None = None
    width: int
    height: int
    frames: int = Field(default=1, ge=1, description="frames stored in this size (an animation's count)")
    still_reason: str | None = Field(
        default=None,
        description="why this size of an animated image is one frame (over the memory budget); else null",
    )


class Image(BaseModel):
    """What every image-related answer returns."""

    model_config = ConfigDict(
        extra="ignore",  # `size` is derived; tolerate it on input
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "image_3kq2w7n5m4x6z2c2v6b4n4m7",
                    "object": "image",
                    "name": "hero",
                    "filename": "hero.jpg",
                    "status": "ready",
                    "format": "jpeg",
                    "width": 2000,
                    "height": 3000,
                    "bytes": 482113,
                    "size": 482113,
                    "public": False,
                }
            ]
        },
    )

    id: str
    object: Literal["image"] = "image"
    name: str
    filename: str
    status: Status = Status.PROCESSING
    error: ImageError | None = None
    format: OutputFormat | None = None
    width: int | None = None
    height: int | None = None
    nbytes: int | None = Field(default=None, alias="bytes")
    url: str | None = None
    public: bool = False
    published_at: datetime | None = None
    sizes: dict[str, SizeVariant] = Field(default_factory=dict)
    parent_id: str | None = None
    operations: list[dict[str, Any]] = Field(default_factory=list)
    checksum: str | None = None
    placeholder: str | None = None
    transformable: bool = True
    metadata: Metadata
    caption: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    version: int = 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def size(self) -> int | None:
        """Same value as ``bytes`` (img-processing.com's field name)."""
        return self.nbytes

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Image:
        return cls.model_validate_json(raw)

    def evolve(self, **changes: Any) -> Image:
        """A copy with changes applied and validated (``bytes`` may be passed by alias)."""
        data = self.model_dump(by_alias=False)
        if "bytes" in changes:
            changes["nbytes"] = changes.pop("bytes")
        data.update(changes)
        data.pop("size", None)
        return Image.model_validate(data)


def require_usable(image: Image, role: str | None = None) -> OutputFormat:
    """The format of ``image``'s master, if it can be the source of a transform, a render or a
    watermark; else why not, as an error (``role`` names it: "parent", "watermark").

    Still processing → :class:`Conflict` (it may be usable later); failed → :class:`MediaFailed`
    with its own error; not transformable → :class:`UnsupportedMediaType`. The API answers these
    as they are; a job cannot wait, so it fails with ``media_failed`` for any of them.
    """
    what = f"The {role} image" if role else "The image"
    if image.status == Status.PROCESSING:
        raise Conflict(f"{what} is still processing.")
    if image.status != Status.READY or image.format is None:
        reason = image.error.message if image.error else "it cannot be used"
        raise MediaFailed(f"{what} failed: {reason}")
    if not image.transformable:
        raise UnsupportedMediaType(f"{what} cannot be transformed.")
    return image.format
