"""Transform operations (docs/design.md §3), one handler per ``op``, applied in order.

``dpr`` and ``convert`` are not pixel operations: ``dpr`` scales later resizes and
``convert`` picks the output encoding (see :func:`output_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image as PILImage

from jobs.contract.operations import Convert, Dpr, Operation, validate_operations
from worker.imaging.budget import held_bytes, image_bytes
from worker.imaging.color import ensure_rgb
from worker.imaging.encode import EncodeOptions
from worker.imaging.operations import color, filters, geometry, watermark
from worker.imaging.operations.base import Handler, OpContext
from worker.imaging.types import Limits


@dataclass(frozen=True, slots=True)
class Step:
    """An operation's handler and what it allocates besides its output, for the memory budget.

    ``scratch``: intermediate layers it holds at once for one frame, counted in working
    frames of its input's size (measured by reading each handler: e.g. ``on_rgb`` splits
    off the RGB and alpha, the enhancer makes a degenerate image and blends). ``sized``:
    its output size is not its input's, so the handler itself checks the size it computed
    (``ctx.check_size``) before allocating; every other op is checked here, before it runs,
    as producing frames of its input's size.
    """

    handler: Handler
    scratch: int = 0
    sized: bool = False


STEPS: Final[dict[str, Step]] = {
    "resize": Step(geometry.resize, scratch=1, sized=True),  # cover + smart gravity: an RGB copy to analyse
    "crop": Step(geometry.crop, scratch=1),  # output ≤ input; smart gravity analyses an RGB copy
    "rotate": Step(geometry.rotate, scratch=1, sized=True),  # the mode conversion before rotating
    "flip": Step(geometry.flip),
    "trim": Step(geometry.trim, scratch=3),  # difference, corner colour, bands: output ≤ input
    "pad": Step(geometry.pad, scratch=1, sized=True),
    "round_corners": Step(geometry.round_corners, scratch=1),  # three L masks
    "modulate": Step(color.modulate, scratch=4),
    "grayscale": Step(color.grayscale, scratch=2),
    "sepia": Step(color.sepia, scratch=3),
    "invert": Step(color.invert, scratch=3),
    "duotone": Step(color.duotone, scratch=3),
    "tint": Step(color.tint, scratch=4),
    "blur": Step(filters.blur, scratch=2),
    "sharpen": Step(filters.sharpen, scratch=3),
    "pixelate": Step(filters.pixelate, scratch=1),  # + its enlarged block image, checked by the handler
    "watermark": Step(watermark.watermark, scratch=2),  # + the mark and its asset, checked by the handler
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
    """Run the pipeline over every frame (content-aware choices are made once, on frame 0).

    Before an operation runs on any frame, what it will allocate for all of them (outputs,
    intermediate layers) plus the frames it runs on is weighed against ``limits.max_memory``.
    """
    ctx = OpContext(limits=limits, assets=assets or {})
    images = [ensure_rgb(frame) for frame in frames]
    del frames  # a caller that hands its only reference over gets each replaced frame freed at once
    for index, op in enumerate(operations):
        ctx.index = index
        if isinstance(op, Dpr):
            ctx.dpr = op.factor
            continue
        if isinstance(op, Convert):
            continue
        step = STEPS[op.op]
        first = images[0]
        ctx.frames, ctx.size, ctx.held = len(images), first.size, held_bytes(images)
        ctx.scratch = step.scratch * image_bytes(first.size)
        if not step.sized:
            ctx.check_size(first.width, first.height, "op")
        images = [step.handler(image, op, ctx) for image in images]
    return images
