"""What every operation handler shares: the context, gravity placement, alpha helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image as PILImage

from jobs.contract.errors import TooLarge
from jobs.contract.operations import parse_color
from worker.imaging.budget import check_budget, image_bytes
from worker.imaging.types import Limits

T = TypeVar("T")


@dataclass(slots=True)
class OpContext:
    """Per-pipeline state: limits, watermark assets, the current op index, the dpr factor.

    ``remember`` caches a value per operation, so content-aware decisions (smart crop,
    trim box, watermark decode) are made once on the first frame of an animation and applied
    identically to every frame.

    ``frames``, ``size``, ``held`` and ``scratch`` describe the operation about to run (set by
    :func:`~worker.imaging.operations.apply_operations`): how many frames of which size it runs on,
    the bytes those frames hold, and the bytes of the intermediate layers it allocates for one frame besides
    its output. :meth:`check_size` weighs them against the job's memory budget.
    """

    limits: Limits
    assets: Mapping[str, bytes] = field(default_factory=dict)
    index: int = 0
    dpr: float = 1.0
    memo: dict[tuple[int, str], Any] = field(default_factory=dict)
    frames: int = 1
    size: tuple[int, int] = (0, 0)  # of the frames the op runs on
    held: int = 0
    scratch: int = 0

    def field(self, name: str) -> str:
        return f"operations[{self.index}].{name}"

    def check_size(self, width: int, height: int, name: str, *, extra: int = 0) -> None:
        """Refuse an output of ``width`` x ``height`` per frame before allocating it: more
        pixels than ``limits.max_pixels`` in one frame, or more bytes than ``limits.max_memory``
        for every frame's output + the frames held + this op's intermediate layers (+ ``extra``
        bytes of layers the handler sized itself, e.g. a watermark)."""
        if width * height > self.limits.max_pixels:
            raise TooLarge(
                f"operation {self.index} would produce {width}x{height} pixels; "
                f"the limit is {self.limits.max_pixels}",
                field=self.field(name),
            )
        planned = self.frames * image_bytes((width, height)) + self.scratch + extra
        check_budget(
            self.limits.max_memory,
            self.held,
            planned,
            f"operation {self.index} on {self.frames} frame(s) of {width}x{height}",
            field=self.field(name),
        )

    def remember(self, key: str, compute: Callable[[], T]) -> T:
        slot = (self.index, key)
        if slot not in self.memo:
            self.memo[slot] = compute()
        value: T = self.memo[slot]
        return value


Handler = Callable[[PILImage.Image, Any, OpContext], PILImage.Image]


def gravity_fraction(gravity: str) -> tuple[float, float]:
    """Compass gravity → where the free space goes: 0 = all after, 0.5 = split, 1 = all before."""
    fx = 0.0 if gravity.endswith("west") else 1.0 if gravity.endswith("east") else 0.5
    fy = 0.0 if gravity.startswith("north") else 1.0 if gravity.startswith("south") else 0.5
    return fx, fy


def anchor(gravity: str, outer: tuple[int, int], inner: tuple[int, int], margin: int = 0) -> tuple[int, int]:
    """Top-left corner placing ``inner`` inside ``outer`` by a compass gravity (``margin`` from edges)."""
    fx, fy = gravity_fraction(gravity)
    free_x, free_y = outer[0] - inner[0] - 2 * margin, outer[1] - inner[1] - 2 * margin
    return margin + int(free_x * fx), margin + int(free_y * fy)


def fill_for(color: str | None) -> tuple[int, int, int, int]:
    """A colour option → RGBA; a missing colour is transparent."""
    return parse_color(color) if color else (0, 0, 0, 0)


def canvas_mode(im: PILImage.Image, fill: tuple[int, int, int, int]) -> str:
    """RGBA when either the image or the fill has transparency, else RGB."""
    return "RGBA" if im.mode == "RGBA" or fill[3] < 255 else "RGB"


def compose(
    size: tuple[int, int], fill: tuple[int, int, int, int], im: PILImage.Image, xy: tuple[int, int]
) -> PILImage.Image:
    """``im`` composited over a ``fill``-coloured canvas of ``size`` at ``xy`` (alpha-aware)."""
    if fill[3] == 255:
        canvas = PILImage.new("RGB", size, fill[:3])
        if im.mode == "RGBA":
            canvas.paste(im, xy, im)
        else:
            canvas.paste(im if im.mode == "RGB" else im.convert("RGB"), xy)
        return canvas
    canvas = PILImage.new("RGBA", size, fill)
    canvas.alpha_composite(im if im.mode == "RGBA" else im.convert("RGBA"), xy)
    return canvas


def fill_value(mode: str, fill: tuple[int, int, int, int]) -> tuple[int, ...]:
    return fill if mode == "RGBA" else fill[:3]


def split_alpha(im: PILImage.Image) -> tuple[PILImage.Image, PILImage.Image | None]:
    """``(RGB part, alpha or None)``."""
    if im.mode == "RGBA":
        return im.convert("RGB"), im.getchannel("A")
    return (im if im.mode == "RGB" else im.convert("RGB")), None


def join_alpha(rgb: PILImage.Image, alpha: PILImage.Image | None) -> PILImage.Image:
    if alpha is None:
        return rgb
    out = rgb.convert("RGBA")
    out.putalpha(alpha)
    return out


def on_rgb(im: PILImage.Image, fn: Callable[[PILImage.Image], PILImage.Image]) -> PILImage.Image:
    """Apply a colour function to the RGB channels, leaving alpha untouched."""
    rgb, alpha = split_alpha(im)
    return join_alpha(fn(rgb), alpha)
