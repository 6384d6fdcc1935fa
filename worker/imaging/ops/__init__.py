"""Transform operations (DESIGN §3), one handler per ``op``, applied in order.

``dpr`` and ``convert`` are not pixel operations: ``dpr`` scales later resizes and
``convert`` picks the output encoding (see :func:`output_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from PIL import Image as PILImage

from jobs.operations import Convert, Dpr, Operation, validate_operations
from worker.imaging.color import ensure_rgb
from worker.imaging.encode import EncodeOptions
from worker.imaging.ops import color, filters, geometry, watermark
from worker.imaging.ops.base import Handler, OpContext
from worker.imaging.types import Limits

HANDLERS: Final[dict[str, Handler]] = {
    "resize": geometry.resize,
    "crop": geometry.crop,
    "rotate": geometry.rotate,
    "flip": geometry.flip,
    "trim": geometry.trim,
    "pad": geometry.pad,
    "round_corners": geometry.round_corners,
    "modulate": color.modulate,
    "grayscale": color.grayscale,
    "sepia": color.sepia,
    "invert": color.invert,
    "duotone": color.duotone,
    "tint": color.tint,
    "blur": filters.blur,
    "sharpen": filters.sharpen,
    "pixelate": filters.pixelate,
    "watermark": watermark.watermark,
}


def as_operations(operations: Sequence[Operation | Mapping[str, Any]]) -> list[Operation]:
    """Accept models or raw dicts (validated, errors naming ``operations[i].field``)."""
    return validate_operations(list(operations))


def output_settings(operations: Sequence[Operation]) -> tuple[str | None, EncodeOptions]:
    """The last ``convert``: ``(format or None, encoder options)``."""
    converts = [op for op in operations if isinstance(op, Convert)]
    if not converts:
        return None, EncodeOptions()
    last = converts[-1]
    options = EncodeOptions(quality=last.quality, lossless=last.lossless, progressive=last.progressive)
    return last.format, options


def apply_operations(
    frames: Sequence[PILImage.Image],
    operations: Sequence[Operation],
    limits: Limits,
    assets: Mapping[str, bytes] | None = None,
) -> list[PILImage.Image]:
    """Run the pipeline over every frame (content-aware choices are made once, on frame 0)."""
    ctx = OpContext(limits=limits, assets=assets or {})
    images = [ensure_rgb(frame) for frame in frames]
    for index, op in enumerate(operations):
        ctx.index = index
        if isinstance(op, Dpr):
            ctx.dpr = op.factor
            continue
        if isinstance(op, Convert):
            continue
        handler = HANDLERS[op.op]
        images = [handler(image, op, ctx) for image in images]
    return images
