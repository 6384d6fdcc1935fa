"""Watermark: another stored image (``assets[image_id]``) or a line of text, at a gravity.

Image watermarks are scaled to ``scale`` x the image's width (never taller than the image);
text uses Pillow's bundled scalable font (``ImageFont.load_default(size=...)``), default
size 5 % of the shorter side; text wider or taller than the image is drawn at the font
size that fits it (measured first), not drawn large and shrunk. ``opacity`` multiplies the
watermark's own alpha; a margin of 2 % of the shorter side keeps it off the edges.
"""

from __future__ import annotations

import math

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from jobs.contract.errors import DarkroomError, InvalidRequest
from jobs.contract.operations import Watermark, parse_color
from worker.imaging.budget import image_bytes
from worker.imaging.decode import load_frames, open_source
from worker.imaging.operations.base import OpContext, anchor
from worker.imaging.sizes import fit_inside, resample

MARGIN = 0.02
DEFAULT_FONT = 0.05


def _asset(op: Watermark, ctx: OpContext) -> PILImage.Image:
    data = ctx.assets.get(op.image_id or "")
    if data is None:
        raise InvalidRequest(f"watermark image {op.image_id} is not available", field=ctx.field("image_id"))
    try:
        src = open_source(data, ctx.limits)  # the header only: its size is known before decoding
    except DarkroomError as exc:
        message = f"watermark image {op.image_id}: {exc.message}"
        raise InvalidRequest(message, field=ctx.field("image_id")) from exc
    # decoded, then converted to RGBA, while the pipeline's frames are held
    size = (src.info.width, src.info.height)
    ctx.check_size(*ctx.size, "image_id", extra=image_bytes(size, src.info.mode) + image_bytes(size))
    try:
        frames = load_frames(src, ctx.limits, animated=False)
    except DarkroomError as exc:
        message = f"watermark image {op.image_id}: {exc.message}"
        raise InvalidRequest(message, field=ctx.field("image_id")) from exc
    return frames.first.convert("RGBA")


def _bbox(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> tuple[int, int, int, int]:
    left, top, right, bottom = font.getbbox(text)
    return math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)


def _text(op: Watermark, size: int, box: tuple[int, int], ctx: OpContext) -> PILImage.Image:
    """The text drawn at the size it is shown: never larger than ``box`` (the image) when the
    font can get that small, so a huge ``font_size`` never allocates a huge layer to shrink."""
    text = op.text or ""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = _bbox(font, text)  # measured, nothing drawn yet
    width, height = max(1, right - left), max(1, bottom - top)
    if width > box[0] or height > box[1]:
        size = max(1, math.floor(size * min(box[0] / width, box[1] / height)))
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = _bbox(font, text)
        width, height = max(1, right - left), max(1, bottom - top)
    ctx.check_size(*ctx.size, "font_size", extra=2 * image_bytes((width, height)))  # layer + opacity copy
    layer = PILImage.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((-left, -top), text, font=font, fill=parse_color(op.color))
    return layer


def _mark(im: PILImage.Image, op: Watermark, ctx: OpContext) -> PILImage.Image:
    """The watermark layer, sized for ``im`` and with ``opacity`` applied."""
    short = min(im.size)
    if op.image_id is not None:
        asset = ctx.remember("asset", lambda: _asset(op, ctx))
        width = max(1, round(im.width * op.scale))
        target = fit_inside(asset.width, asset.height, width, im.height, enlarge=True)
        ctx.check_size(*im.size, "scale", extra=2 * image_bytes(target))  # the mark + its opacity copy
        mark = resample(asset, target)
    else:
        mark = _text(op, op.font_size or max(8, round(short * DEFAULT_FONT)), im.size, ctx)
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
