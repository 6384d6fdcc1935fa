"""The operation models, one per ``op``, and the ``Operation`` union discriminated on it."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from jobs.contract.constants import OutputFormat
from jobs.contract.operations.colors import Color

MAX_DIMENSION = 16384


def _parse_aspect(value: Any) -> Any:
    """Accept ``1.5``, ``"1.5"``, ``"16:9"`` or ``"16/9"`` for ``crop.aspect``."""
    if isinstance(value, str):
        parts = re.split(r"[:/]", value.strip())
        try:
            if len(parts) == 2:
                num, den = float(parts[0]), float(parts[1])
                return num / den if den > 0 else value
            return float(value)
        except ValueError:
            return value
    return value


def _problem(field: str, message: str) -> PydanticCustomError:
    """A model-level error that still names its field (read back by :func:`validate_operations`)."""
    return PydanticCustomError("invalid_operation", "{message}", {"field": field, "message": message})


Dimension = Annotated[int, Field(ge=1, le=MAX_DIMENSION)]
Offset = Annotated[int, Field(ge=0, le=MAX_DIMENSION - 1)]
Compass = Literal[
    "center", "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"
]
ResizeGravity = Literal[Compass, "smart"]
CropGravity = Literal[Compass, "smart", "focal"]
Fit = Literal["cover", "contain", "fill", "inside", "outside"]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resize(_Op):
    """Scale to ``width`` x ``height`` (either may be omitted: the other follows the aspect ratio)."""

    op: Literal["resize"]
    width: Dimension | None = None
    height: Dimension | None = None
    fit: Fit = "inside"
    enlarge: bool = False
    gravity: ResizeGravity = "center"
    background: Color | None = None

    @model_validator(mode="after")
    def _needs_a_dimension(self) -> Self:
        if self.width is None and self.height is None:
            raise _problem("width", "resize needs width, height or both")
        return self


class Crop(_Op):
    """Absolute ``{x, y, width, height}``, or a ``width`` x ``height`` / ``aspect`` window by gravity."""

    op: Literal["crop"]
    x: Offset | None = None
    y: Offset | None = None
    width: Dimension | None = None
    height: Dimension | None = None
    aspect: Annotated[float, BeforeValidator(_parse_aspect), Field(gt=0.01, le=100)] | None = None
    gravity: CropGravity = "center"
    focal_x: Annotated[float, Field(ge=0, le=1)] | None = None
    focal_y: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if self.x is not None or self.y is not None:
            for name in ("x", "y", "width", "height"):
                if getattr(self, name) is None:
                    raise _problem(name, f"an absolute crop needs x, y, width and height ({name} is missing)")
            for name in ("aspect", "focal_x", "focal_y"):
                if getattr(self, name) is not None:
                    raise _problem(name, f"{name} cannot be combined with x/y")
            if self.gravity != "center":
                raise _problem("gravity", "gravity cannot be combined with x/y")
            return self
        sized = self.width is not None or self.height is not None
        if self.aspect is not None and sized:
            raise _problem("aspect", "give either width and height or aspect, not both")
        if self.aspect is None:
            for name in ("width", "height"):
                if getattr(self, name) is None:
                    raise _problem(name, f"crop needs width and height, or aspect ({name} is missing)")
        focal = self.focal_x is not None or self.focal_y is not None
        if self.gravity == "focal":
            for name in ("focal_x", "focal_y"):
                if getattr(self, name) is None:
                    raise _problem(name, f"gravity 'focal' needs focal_x and focal_y ({name} is missing)")
        elif focal:
            raise _problem("gravity", "focal_x/focal_y need gravity 'focal'")
        return self


class Rotate(_Op):
    """Rotate clockwise; multiples of 90° are lossless transposes, others expand the canvas."""

    op: Literal["rotate"]
    angle: Annotated[float, Field(ge=-360, le=360)]
    background: Color | None = None


class Flip(_Op):
    op: Literal["flip"]
    direction: Literal["horizontal", "vertical", "both"] = "horizontal"


class Trim(_Op):
    """Remove borders that match the top-left pixel within ``threshold`` (per channel, 0-255)."""

    op: Literal["trim"]
    threshold: Annotated[int, Field(ge=0, le=255)] = 10


class Pad(_Op):
    op: Literal["pad"]
    top: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = 0
    right: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = 0
    bottom: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = 0
    left: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = 0
    background: Color = "#00000000"

    @model_validator(mode="after")
    def _some_padding(self) -> Self:
        if not (self.top or self.right or self.bottom or self.left):
            raise _problem("top", "pad needs at least one of top, right, bottom, left > 0")
        return self


class RoundCorners(_Op):
    op: Literal["round_corners"]
    radius: Annotated[int, Field(ge=1, le=MAX_DIMENSION // 2)]


class Modulate(_Op):
    """Multipliers: 1 keeps the image as is, 0 is black / flat grey / greyscale."""

    op: Literal["modulate"]
    brightness: Annotated[float, Field(ge=0, le=10)] = 1.0
    contrast: Annotated[float, Field(ge=0, le=10)] = 1.0
    saturation: Annotated[float, Field(ge=0, le=10)] = 1.0


class Grayscale(_Op):
    op: Literal["grayscale"]


class Sepia(_Op):
    op: Literal["sepia"]


class Invert(_Op):
    op: Literal["invert"]


class Duotone(_Op):
    """Map shadows to ``dark`` and highlights to ``light``."""

    op: Literal["duotone"]
    dark: Color
    light: Color


class Tint(_Op):
    op: Literal["tint"]
    color: Color
    opacity: Annotated[float, Field(ge=0, le=1)] = 0.5


class Blur(_Op):
    """Gaussian blur; ``sigma`` is the standard deviation in pixels."""

    op: Literal["blur"]
    sigma: Annotated[float, Field(ge=0.3, le=100)] = 2.0


class Sharpen(_Op):
    """Unsharp mask; ``amount`` 1 is a moderate sharpen."""

    op: Literal["sharpen"]
    amount: Annotated[float, Field(gt=0, le=10)] = 1.0


class Pixelate(_Op):
    op: Literal["pixelate"]
    size: Annotated[int, Field(ge=2, le=1024)] = 10


class Watermark(_Op):
    """Overlay another stored image (``image_id``) or a line of ``text``.

    ``scale`` is the watermark's width as a fraction of the image's width (image watermarks);
    ``font_size`` is in pixels (text; default 5 % of the shorter side).
    """

    op: Literal["watermark"]
    image_id: Annotated[str, Field(pattern=r"^image_[a-z0-9]{24}$")] | None = None
    text: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    gravity: Compass = "southeast"
    opacity: Annotated[float, Field(ge=0, le=1)] = 0.5
    scale: Annotated[float, Field(ge=0.01, le=1)] = 0.25
    font_size: Annotated[int, Field(ge=4, le=2000)] | None = None
    color: Color = "#ffffff"

    @model_validator(mode="after")
    def _image_or_text(self) -> Self:
        if (self.image_id is None) == (self.text is None):
            raise _problem("image_id", "watermark needs exactly one of image_id or text")
        if self.image_id is not None and self.font_size is not None:
            raise _problem("font_size", "font_size applies to text watermarks only")
        return self


class Convert(_Op):
    """Output format and encoder options (the last ``convert`` wins)."""

    op: Literal["convert"]
    format: OutputFormat
    quality: Annotated[int, Field(ge=1, le=100)] | None = None
    lossless: bool = False
    progressive: bool | None = None

    @model_validator(mode="after")
    def _options_fit_format(self) -> Self:
        if self.lossless and self.format in ("jpeg", "gif"):
            raise _problem("lossless", f"{self.format} has no lossless mode (png is always lossless)")
        if self.progressive and self.format not in ("jpeg", "gif"):
            raise _problem("progressive", "progressive applies to jpeg (and interlaced gif) only")
        return self


class Dpr(_Op):
    """Device pixel ratio: multiplies the dimensions of every later ``resize``."""

    op: Literal["dpr"]
    factor: Annotated[float, Field(ge=1, le=4)]


Operation = Annotated[
    Resize
    | Crop
    | Rotate
    | Flip
    | Trim
    | Pad
    | RoundCorners
    | Modulate
    | Grayscale
    | Sepia
    | Invert
    | Duotone
    | Tint
    | Blur
    | Sharpen
    | Pixelate
    | Watermark
    | Convert
    | Dpr,
    Field(discriminator="op"),
]
OPERATION_NAMES: tuple[str, ...] = (
    "resize", "crop", "rotate", "flip", "trim", "pad", "round_corners", "modulate", "grayscale",
    "sepia", "invert", "duotone", "tint", "blur", "sharpen", "pixelate", "watermark", "convert", "dpr",
)  # fmt: skip
