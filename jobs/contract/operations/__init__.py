"""Transform operation specs (docs/design.md §3): pydantic models, one per ``op``.

The HTTP API validates caller input with :func:`validate_operations` before anything is
enqueued; the worker receives the same models. Every model forbids unknown fields and
bounds every number, so a bad pipeline fails fast with the field at fault
(``operations[2].width``).

Conventions (documented for callers):

* ``resize.fit`` defaults to ``inside`` (imgproxy's ``fit``): fit inside the box keeping the
  aspect ratio, never crop, never pad. ``enlarge`` defaults to false everywhere.
* Angles are clockwise, in degrees.
* A missing ``background`` means transparent; outputs without alpha (jpeg) are flattened
  onto white.
* Colours: ``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa`` or a CSS name from
  :data:`COLOR_NAMES`; they are normalised to lowercase ``#rrggbb`` (``#rrggbbaa`` when not
  opaque) so equal colours hash equally in :func:`canonical_json`.
"""

from jobs.contract.constants import OutputFormat
from jobs.contract.operations.colors import COLOR_NAMES, Color, normalize_color, parse_color
from jobs.contract.operations.models import (
    MAX_DIMENSION,
    OPERATION_NAMES,
    Blur,
    Compass,
    Convert,
    Crop,
    CropGravity,
    Dimension,
    Dpr,
    Duotone,
    Fit,
    Flip,
    Grayscale,
    Invert,
    Modulate,
    Offset,
    Operation,
    Pad,
    Pixelate,
    Resize,
    ResizeGravity,
    Rotate,
    RoundCorners,
    Sepia,
    Sharpen,
    Tint,
    Trim,
    Watermark,
)
from jobs.contract.operations.validation import (
    MAX_OPERATIONS,
    canonical_json,
    validate_operation,
    validate_operations,
)

__all__ = [
    "COLOR_NAMES",
    "MAX_DIMENSION",
    "MAX_OPERATIONS",
    "OPERATION_NAMES",
    "Blur",
    "Color",
    "Compass",
    "Convert",
    "Crop",
    "CropGravity",
    "Dimension",
    "Dpr",
    "Duotone",
    "Fit",
    "Flip",
    "Grayscale",
    "Invert",
    "Modulate",
    "Offset",
    "Operation",
    "OutputFormat",
    "Pad",
    "Pixelate",
    "Resize",
    "ResizeGravity",
    "Rotate",
    "RoundCorners",
    "Sepia",
    "Sharpen",
    "Tint",
    "Trim",
    "Watermark",
    "canonical_json",
    "normalize_color",
    "parse_color",
    "validate_operation",
    "validate_operations",
]
