"""Geometry operations: resize, crop, rotate, flip, trim, pad, round_corners.

``resize`` semantics (sharp/imgproxy vocabulary; ``enlarge`` false never upscales):

* ``inside`` (default): fit inside width x height, keep aspect, no crop, no padding;
* ``outside``: smallest size covering width x height, keep aspect, no crop;
* ``cover``: cover the box, then crop it to exactly width x height by ``gravity``
  (compass or ``smart``); without ``enlarge`` a smaller image is cropped to at most the box;
* ``contain``: fit inside, then pad to exactly width x height with ``background``
  (transparent by default) at ``gravity``;  (``pad`` and ``contain`` composite the image over
  their background, so transparent pixels of the image show the background colour)
* ``fill``: stretch to exactly width x height (without ``enlarge``, each axis is capped at
  the image's own size).

With one dimension only, the other follows the aspect ratio. ``dpr`` multiplies both.
"""

from __future__ import annotations

import math

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw

from jobs.contract.errors import InvalidRequest
from jobs.contract.operations import Crop, Flip, Pad, Resize, Rotate, RoundCorners, Trim
from worker.imaging.budget import image_bytes
from worker.imaging.operations.base import (
    OpContext,
    anchor,
    canvas_mode,
    compose,
    fill_for,
    fill_value,
    gravity_fraction,
)
from worker.imaging.operations.smartcrop import best_window
from worker.imaging.sizes import RESAMPLE, resample, round_half_up

_REDUCING_GAP = 2.0


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round_half_up(width * scale)), max(1, round_half_up(height * scale))


def resize(im: PILImage.Image, op: Resize, ctx: OpContext) -> PILImage.Image:
    src_w, src_h = im.size
    w = round(op.width * ctx.dpr) if op.width else None
    h = round(op.height * ctx.dpr) if op.height else None
    if w is None or h is None:
        scale = w / src_w if w is not None else (h or src_h) / src_h
        if not op.enlarge:
            scale = min(scale, 1.0)
        target = _scaled(src_w, src_h, scale)
        ctx.check_size(*target, "width")
        return resample(im, target)
    if op.fit == "fill":
        target = (w, h) if op.enlarge else (min(w, src_w), min(h, src_h))
        ctx.check_size(*target, "width")
        return resample(im, target)
    sx, sy = w / src_w, h / src_h
    scale = min(sx, sy) if op.fit in ("inside", "contain") else max(sx, sy)
    if not op.enlarge:
        scale = min(scale, 1.0)
    scaled = _scaled(src_w, src_h, scale)
    if op.fit == "contain":
        ctx.check_size(w, h, "width", extra=2 * image_bytes(scaled))  # resampled, then converted
        gravity = "center" if op.gravity == "smart" else op.gravity
        return compose((w, h), fill_for(op.background), resample(im, scaled), anchor(gravity, (w, h), scaled))
    ctx.check_size(*scaled, "width")
    if op.fit != "cover":  # inside, outside
        return resample(im, scaled)
    out_w, out_h = min(w, scaled[0]), min(h, scaled[1])
    if (out_w, out_h) == scaled:
        return resample(im, scaled)
    win_w, win_h = min(src_w, out_w / scale), min(src_h, out_h / scale)
    if op.gravity == "smart":
        x, y = ctx.remember("smart", lambda: best_window(im, round(win_w), round(win_h)))
        left, top = float(x), float(y)
    else:
        fx, fy = gravity_fraction(op.gravity)
        left, top = (src_w - win_w) * fx, (src_h - win_h) * fy
    box = (left, top, left + win_w, top + win_h)
    gap = _REDUCING_GAP if out_w < win_w else None
    return im.resize((out_w, out_h), RESAMPLE, box=box, reducing_gap=gap)


def _crop_box(im: PILImage.Image, op: Crop, ctx: OpContext) -> tuple[int, int, int, int]:
    width, height = im.size
    if op.x is not None and op.y is not None and op.width is not None and op.height is not None:
        if op.x >= width or op.y >= height:
            name = "x" if op.x >= width else "y"
            raise InvalidRequest(f"crop starts outside the {width}x{height} image", field=ctx.field(name))
        return op.x, op.y, min(width, op.x + op.width), min(height, op.y + op.height)
    if op.aspect is not None:
        if width / height > op.aspect:
            win = (max(1, round(height * op.aspect)), height)
        else:
            win = (width, max(1, round(width / op.aspect)))
    else:
        win = (min(width, op.width or width), min(height, op.height or height))
    win = (min(win[0], width), min(win[1], height))
    if op.gravity == "smart":
        x, y = ctx.remember("smart", lambda: best_window(im, *win))
    elif op.gravity == "focal":
        fx = (op.focal_x if op.focal_x is not None else 0.5) * width
        fy = (op.focal_y if op.focal_y is not None else 0.5) * height
        x = min(width - win[0], max(0, round(fx - win[0] / 2)))
        y = min(height - win[1], max(0, round(fy - win[1] / 2)))
    else:
        x, y = anchor(op.gravity, (width, height), win)
    return x, y, x + win[0], y + win[1]


def crop(im: PILImage.Image, op: Crop, ctx: OpContext) -> PILImage.Image:
    box = _crop_box(im, op, ctx)
    return im if box == (0, 0, *im.size) else im.crop(box)


_QUARTER_TURNS = {
    90: PILImage.Transpose.ROTATE_270,  # Pillow's ROTATE_n turn counter-clockwise
    180: PILImage.Transpose.ROTATE_180,
    270: PILImage.Transpose.ROTATE_90,
}


def rotate(im: PILImage.Image, op: Rotate, ctx: OpContext) -> PILImage.Image:
    angle = op.angle % 360
    if angle == 0:
        return im
    if angle in _QUARTER_TURNS:
        ctx.check_size(*(im.size if angle == 180 else (im.height, im.width)), "angle")
        return im.transpose(_QUARTER_TURNS[int(angle)])
    rad = math.radians(angle)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    expanded = (math.ceil(im.width * cos + im.height * sin), math.ceil(im.width * sin + im.height * cos))
    ctx.check_size(*expanded, "angle")
    fill = fill_for(op.background)
    mode = canvas_mode(im, fill)
    source = im if im.mode == mode else im.convert(mode)
    return source.rotate(
        -angle, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=fill_value(mode, fill)
    )


def flip(im: PILImage.Image, op: Flip, ctx: OpContext) -> PILImage.Image:
    if op.direction == "horizontal":
        return im.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)
    if op.direction == "vertical":
        return im.transpose(PILImage.Transpose.FLIP_TOP_BOTTOM)
    return im.transpose(PILImage.Transpose.ROTATE_180)


def _trim_box(im: PILImage.Image, threshold: int) -> tuple[int, int, int, int] | None:
    if im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0:  # type: ignore[index]
        diff = im.getchannel("A")
    else:
        base = im.convert("RGB") if im.mode == "RGBA" else im
        corner = base.getpixel((0, 0))
        bands = ImageChops.difference(base, PILImage.new(base.mode, base.size, corner)).split()
        diff = bands[0]
        for band in bands[1:]:
            diff = ImageChops.lighter(diff, band)
    return diff.point(lambda v: 255 if v > threshold else 0).getbbox()


def trim(im: PILImage.Image, op: Trim, ctx: OpContext) -> PILImage.Image:
    box = ctx.remember("box", lambda: _trim_box(im, op.threshold))
    if box is None or box == (0, 0, *im.size):
        return im
    return im.crop(box)


def pad(im: PILImage.Image, op: Pad, ctx: OpContext) -> PILImage.Image:
    size = (im.width + op.left + op.right, im.height + op.top + op.bottom)
    ctx.check_size(*size, "top")
    return compose(size, fill_for(op.background), im, (op.left, op.top))


def _corner_mask(radius: int) -> PILImage.Image:
    """Antialiased top-left quarter-circle mask (255 inside the image)."""
    supersample = 4 if radius <= 256 else 2 if radius <= 1024 else 1
    big = radius * supersample
    mask = PILImage.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, 2 * big - 1, 2 * big - 1), fill=255)
    return mask.resize((radius, radius), PILImage.Resampling.BOX) if supersample > 1 else mask


def round_corners(im: PILImage.Image, op: RoundCorners, ctx: OpContext) -> PILImage.Image:
    radius = min(op.radius, im.width // 2, im.height // 2)
    out = im.convert("RGBA") if im.mode != "RGBA" else im.copy()
    if radius < 1:
        return out
    corner = _corner_mask(radius)
    mask = PILImage.new("L", im.size, 255)
    mask.paste(corner, (0, 0))
    mask.paste(corner.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT), (im.width - radius, 0))
    mask.paste(corner.transpose(PILImage.Transpose.FLIP_TOP_BOTTOM), (0, im.height - radius))
    mask.paste(corner.transpose(PILImage.Transpose.ROTATE_180), (im.width - radius, im.height - radius))
    out.putalpha(ImageChops.multiply(out.getchannel("A"), mask))
    return out
