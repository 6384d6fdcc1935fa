"""The pixel-memory budget of one imaging job (``Limits.max_memory``, ``IMAGING_MEMORY_MB``).

``MAX_PIXELS`` bounds one frame; what a job really allocates is every frame it holds plus
what the next step makes of them: an animation of 10 small frames resized to 7000x7000
is 2 GB of pixels that no per-frame limit sees. So before each step allocates (the decode,
every operation, every intermediate layer, the encoder's copies) the step states what it
is about to allocate, and :func:`check_budget` refuses it with ``too_large`` when that plus
the frames already held would pass the budget. Sizes are Pillow's storage: 4 bytes per
pixel for RGB and RGBA (RGB is padded to 32 bits), 1 for L/P/1, 2 for 16-bit grey.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from PIL import Image as PILImage

from jobs.contract.errors import TooLarge

MiB: Final = 1024 * 1024
WORKING_BYTES: Final = 4  # a working frame (RGB or RGBA) of unknown mode: the worst case


def pixel_bytes(mode: str) -> int:
    """Bytes Pillow stores per pixel of ``mode``."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def image_bytes(size: tuple[int, int], mode: str | None = None) -> int:
    """Bytes of one ``size`` image in ``mode`` (None: a working frame, counted as RGBA)."""
    return size[0] * size[1] * (pixel_bytes(mode) if mode else WORKING_BYTES)


def held_bytes(images: Iterable[PILImage.Image]) -> int:
    """Bytes of pixels the given images hold."""
    return sum(image_bytes(im.size, im.mode) for im in images)


def check_budget(limit: int, held: int, planned: int, what: str, *, field: str | None = None) -> None:
    """Refuse a step whose planned allocation on top of ``held`` bytes passes ``limit``."""
    total = held + planned
    if total > limit:
        raise TooLarge(
            f"{what} would hold {_mb(total)} MB of pixels at once; the limit is {_mb(limit)} MB.",
            field=field,
        )


def _mb(value: int) -> str:
    return f"{value / MiB:.0f}" if value >= 10 * MiB else f"{value / MiB:.1f}"
