"""Watermark: another stored image (``assets[image_id]``) or a line of text, at a gravity.

Image watermarks are scaled to ``scale`` x the image's width (never taller than the image);
text uses Pillow's bundled scalable font (``ImageFont.load_default(size=...)``), default
size 5 % of the shorter side. ``opacity`` multiplies the watermark's own alpha; a margin of
2 % of the shorter side keeps it off the edges.
"""

from __future__ import annotations

import math

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from jobs.errors import DarkroomError, InvalidRequest
from jobs.operations import Watermark, parse_color
from worker.imaging.decode import decode
from worker.imaging.ops.base import OpContext, anchor
from worker.imaging.sizes import fit_inside, resample

MARGIN = 0.02
DEFAULT_FONT = 0.05


def _asset(op: Watermark, ctx: OpContext) -> PILImage.Image:
    data = ctx.assets.get(op.image_id or "")
    if data is None:
        raise InvalidRequest(f"watermark image {op.image_id} is not available", field=ctx.field("image_id"))
    try:
        _, frames = decode(data, ctx.limits)
    except DarkroomError as exc:
        message = f"watermark image {op.image_id}: {exc.message}"
        raise InvalidRequest(message, field=ctx.field("image_id")) from exc
    return frames.first.convert("RGBA")


def _text(op: Watermark, size: int) -> PILImage.Image:
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = (
        math.floor(v) if i < 2 else math.ceil(v) for i, v in enumerate(font.getbbox(op.text or ""))
    )
    layer = PILImage.new("RGBA", (max(1, right - left), max(1, bottom - top)), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((-left, -top), op.text or "", font=font, fill=parse_color(op.color))
    return layer


def _mark(im: PILImage.Image, op: Watermark, ctx: OpContext) -> PILImage.Image:
    """The watermark layer, sized for ``im`` and with ``opacity`` applied."""
    short = min(im.size)
    if op.image_id is not None:
        asset = ctx.remember("asset", lambda: _asset(op, ctx))
        width = max(1, round(im.width * op.scale))
        mark = resample(asset, fit_inside(asset.width, asset.height, width, im.height, enlarge=True))
    else:
        mark = _text(op, op.font_size or max(8, round(short * DEFAULT_FONT)))
        if mark.width > im.width or mark.height > im.height:
            mark = resample(mark, fit_inside(mark.width, mark.height, im.width, im.height))
    if op.opacity < 1:
        mark = mark.copy()
        mark.putalpha(mark.getchannel("A").point(lambda a: round(a * op.opacity)))
    return mark


def watermark(im: PILImage.Image, op: Watermark, ctx: OpContext) -> PILImage.Image:
    mark = ctx.remember(f"mark:{im.width}x{im.height}", lambda: _mark(im, op, ctx))
    margin = round(min(im.size) * MARGIN)
    if mark.width + 2 * margin > im.width or mark.height + 2 * margin > im.height:
        margin = 0
    position = anchor(op.gravity, im.size, mark.size, margin)
    base = im.convert("RGBA") if im.mode != "RGBA" else im.copy()
    base.alpha_composite(mark, dest=position)
    return base if im.mode == "RGBA" else base.convert("RGB")
