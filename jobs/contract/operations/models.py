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


OP_DESCRIPTION = "The operation's name: selects which parameters apply."
COLOR = "Colour (`#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa` or a CSS name)"


class _Op(BaseModel):
    # strict: the types the published schema states are the types accepted (no "300" for 300,
    # no 0 for false), so a schema-driven client and the server agree on what is valid
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Resize(_Op):
    """Scale to ``width`` x ``height`` (either may be omitted: the other follows the aspect ratio)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"op": "resize", "width": 300},
                {"op": "resize", "width": 400, "height": 300, "fit": "cover", "gravity": "smart"},
            ]
        }
    )

    op: Literal["resize"] = Field(description=OP_DESCRIPTION)
    width: Dimension | None = Field(
        None, description="Target width in pixels (omit to follow the aspect ratio)."
    )
    height: Dimension | None = Field(
        None, description="Target height in pixels (omit to follow the aspect ratio)."
    )
    fit: Fit = Field(
        "inside",
        description=(
            "`inside`: fit in the box, keep the ratio; `outside`: cover the box, keep the ratio; "
            "`cover`: fill the box and crop; `contain`: fit and pad to the box; `fill`: stretch."
        ),
    )
    enlarge: bool = Field(False, description="Allow scaling up past the source size.")
    gravity: ResizeGravity = Field(
        "center", description="What `cover` keeps; `smart` finds the busiest area."
    )
    background: Color | None = Field(
        None, description=f"{COLOR} for `contain`'s padding; none = transparent."
    )

    @model_validator(mode="after")
    def _needs_a_dimension(self) -> Self:
        if self.width is None and self.height is None:
            raise _problem("width", "resize needs width, height or both")
        return self


class Crop(_Op):
    """Absolute ``{x, y, width, height}``, or a ``width`` x ``height`` / ``aspect`` window by gravity."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"op": "crop", "aspect": 1.5, "gravity": "smart"},
                {"op": "crop", "x": 10, "y": 10, "width": 200, "height": 100},
            ]
        }
    )

    op: Literal["crop"] = Field(description=OP_DESCRIPTION)
    x: Offset | None = Field(None, description="Left edge of an absolute crop (with y, width, height).")
    y: Offset | None = Field(None, description="Top edge of an absolute crop (with x, width, height).")
    width: Dimension | None = Field(None, description="Width of the window in pixels.")
    height: Dimension | None = Field(None, description="Height of the window in pixels.")
    aspect: Annotated[float, Field(gt=0.01, le=100), BeforeValidator(_parse_aspect)] | None = Field(
        None, description='Width/height ratio of the largest window: `1.5`, `"16:9"` or `"16/9"`.'
    )
    gravity: CropGravity = Field(
        "center", description="Where the window sits; `smart` finds the busiest area, `focal` uses focal_x/y."
    )
    focal_x: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Focal point, fraction of the width (gravity `focal`)."
    )
    focal_y: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Focal point, fraction of the height (gravity `focal`)."
    )

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

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "rotate", "angle": 90}]})

    op: Literal["rotate"] = Field(description=OP_DESCRIPTION)
    angle: Annotated[float, Field(ge=-360, le=360)] = Field(description="Degrees, clockwise.")
    background: Color | None = Field(
        None, description=f"{COLOR} for the uncovered corners; none = transparent."
    )


class Flip(_Op):
    """Mirror the image."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "flip", "direction": "horizontal"}]})

    op: Literal["flip"] = Field(description=OP_DESCRIPTION)
    direction: Literal["horizontal", "vertical", "both"] = Field(
        "horizontal", description="`horizontal` mirrors left-right, `vertical` top-bottom."
    )


class Trim(_Op):
    """Remove borders that match the top-left pixel within ``threshold`` (per channel, 0-255)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "trim", "threshold": 10}]})

    op: Literal["trim"] = Field(description=OP_DESCRIPTION)
    threshold: Annotated[int, Field(ge=0, le=255)] = Field(
        10, description="How far (per channel) a pixel may differ from the corner and still be border."
    )


class Pad(_Op):
    """Add a border of ``background`` around the image."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"op": "pad", "top": 20, "bottom": 20, "background": "white"}]}
    )

    op: Literal["pad"] = Field(description=OP_DESCRIPTION)
    top: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = Field(0, description="Pixels added above.")
    right: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = Field(0, description="Pixels added on the right.")
    bottom: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = Field(0, description="Pixels added below.")
    left: Annotated[int, Field(ge=0, le=MAX_DIMENSION)] = Field(0, description="Pixels added on the left.")
    background: Color = Field("#00000000", description=f"{COLOR} of the border; default transparent.")

    @model_validator(mode="after")
    def _some_padding(self) -> Self:
        if not (self.top or self.right or self.bottom or self.left):
            raise _problem("top", "pad needs at least one of top, right, bottom, left > 0")
        return self


class RoundCorners(_Op):
    """Round the corners (they become transparent)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "round_corners", "radius": 24}]})

    op: Literal["round_corners"] = Field(description=OP_DESCRIPTION)
    radius: Annotated[int, Field(ge=1, le=MAX_DIMENSION // 2)] = Field(
        description="Corner radius in pixels; the corners become transparent."
    )


class Modulate(_Op):
    """Multipliers: 1 keeps the image as is, 0 is black / flat grey / greyscale."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"op": "modulate", "brightness": 1.1, "contrast": 1.2, "saturation": 1.3}]
        }
    )

    op: Literal["modulate"] = Field(description=OP_DESCRIPTION)
    brightness: Annotated[float, Field(ge=0, le=10)] = Field(1.0, description="1 = unchanged, 0 = black.")
    contrast: Annotated[float, Field(ge=0, le=10)] = Field(1.0, description="1 = unchanged, 0 = flat grey.")
    saturation: Annotated[float, Field(ge=0, le=10)] = Field(1.0, description="1 = unchanged, 0 = greyscale.")


class Grayscale(_Op):
    """Convert to shades of grey."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "grayscale"}]})

    op: Literal["grayscale"] = Field(description=OP_DESCRIPTION)


class Sepia(_Op):
    """A warm brown-toned monochrome."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "sepia"}]})

    op: Literal["sepia"] = Field(description=OP_DESCRIPTION)


class Invert(_Op):
    """Negative: every colour channel inverted (alpha kept)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "invert"}]})

    op: Literal["invert"] = Field(description=OP_DESCRIPTION)


class Duotone(_Op):
    """Map shadows to ``dark`` and highlights to ``light``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"op": "duotone", "dark": "#1d1a4b", "light": "#f7c873"}]}
    )

    op: Literal["duotone"] = Field(description=OP_DESCRIPTION)
    dark: Color = Field(description=f"{COLOR} the shadows become.")
    light: Color = Field(description=f"{COLOR} the highlights become.")


class Tint(_Op):
    """Lay a colour over the image at ``opacity``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"op": "tint", "color": "#ff8800", "opacity": 0.3}]}
    )

    op: Literal["tint"] = Field(description=OP_DESCRIPTION)
    color: Color = Field(description=f"{COLOR} laid over the image.")
    opacity: Annotated[float, Field(ge=0, le=1)] = Field(0.5, description="0 = no tint, 1 = solid colour.")


class Blur(_Op):
    """Gaussian blur; ``sigma`` is the standard deviation in pixels."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "blur", "sigma": 3}]})

    op: Literal["blur"] = Field(description=OP_DESCRIPTION)
    sigma: Annotated[float, Field(ge=0.3, le=100)] = Field(2.0, description="Standard deviation in pixels.")


class Sharpen(_Op):
    """Unsharp mask; ``amount`` 1 is a moderate sharpen."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "sharpen", "amount": 1.5}]})

    op: Literal["sharpen"] = Field(description=OP_DESCRIPTION)
    amount: Annotated[float, Field(gt=0, le=10)] = Field(1.0, description="Strength; 1 is moderate.")


class Pixelate(_Op):
    """Blocks of ``size`` pixels, each its average colour."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "pixelate", "size": 12}]})

    op: Literal["pixelate"] = Field(description=OP_DESCRIPTION)
    size: Annotated[int, Field(ge=2, le=1024)] = Field(10, description="Block size in pixels.")


class Watermark(_Op):
    """Overlay another stored image (``image_id``) or a line of ``text``.

    ``scale`` is the watermark's width as a fraction of the image's width (image watermarks);
    ``font_size`` is in pixels (text; default 5 % of the shorter side).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"op": "watermark", "text": "© Darkroom", "gravity": "southeast", "opacity": 0.6}]
        }
    )

    op: Literal["watermark"] = Field(description=OP_DESCRIPTION)
    image_id: Annotated[str, Field(pattern=r"^image_[a-z0-9]{24}$")] | None = Field(
        None, description="A ready image of yours to overlay (exactly one of image_id, text)."
    )
    text: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="One line of text to overlay (exactly one of image_id, text)."
    )
    gravity: Compass = Field("southeast", description="Where the watermark sits.")
    opacity: Annotated[float, Field(ge=0, le=1)] = Field(0.5, description="0 = invisible, 1 = opaque.")
    scale: Annotated[float, Field(ge=0.01, le=1)] = Field(
        0.25, description="Image watermarks: width as a fraction of the image's width."
    )
    font_size: Annotated[int, Field(ge=4, le=2000)] | None = Field(
        None, description="Text watermarks: pixels; default 5 % of the shorter side."
    )
    color: Color = Field("#ffffff", description=f"{COLOR} of the text.")

    @model_validator(mode="after")
    def _image_or_text(self) -> Self:
        if (self.image_id is None) == (self.text is None):
            raise _problem("image_id", "watermark needs exactly one of image_id or text")
        if self.image_id is not None and self.font_size is not None:
            raise _problem("font_size", "font_size applies to text watermarks only")
        return self


class Convert(_Op):
    """Output format and encoder options (the last ``convert`` wins)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"op": "convert", "format": "webp", "quality": 80}]}
    )

    op: Literal["convert"] = Field(description=OP_DESCRIPTION)
    format: OutputFormat = Field(description="Output format.")
    quality: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="Lossy quality; default per format (jpeg 82, webp 80, avif 60)."
    )
    lossless: bool = Field(False, description="webp/avif lossless mode (png is always lossless).")
    progressive: bool | None = Field(None, description="Progressive jpeg / interlaced gif.")

    @model_validator(mode="after")
    def _options_fit_format(self) -> Self:
        if self.lossless and self.format in ("jpeg", "gif"):
            raise _problem("lossless", f"{self.format} has no lossless mode (png is always lossless)")
        if self.progressive and self.format not in ("jpeg", "gif"):
            raise _problem("progressive", "progressive applies to jpeg (and interlaced gif) only")
        return self


class Dpr(_Op):
    """Device pixel ratio: multiplies the dimensions of every later ``resize``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"op": "dpr", "factor": 2}]})

    op: Literal["dpr"] = Field(description=OP_DESCRIPTION)
    factor: Annotated[float, Field(ge=1, le=4)] = Field(description="Multiplier for later resizes.")


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
