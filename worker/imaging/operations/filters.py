"""Filters: blur, sharpen, pixelate (alpha-aware: blur works on premultiplied pixels)."""

from __future__ import annotations

import math

from PIL import Image as PILImage
from PIL import ImageFilter

from jobs.contract.operations import Blur, Pixelate, Sharpen
from worker.imaging.budget import image_bytes
from worker.imaging.operations.base import OpContext, on_rgb


def blur(im: PILImage.Image, op: Blur, ctx: OpContext) -> PILImage.Image:
    kernel = ImageFilter.GaussianBlur(op.sigma)  # Pillow's radius is the standard deviation
    if im.mode == "RGBA":  # premultiply so transparent pixels don't bleed their colour
        return im.convert("RGBa").filter(kernel).convert("RGBA")
    return im.filter(kernel)


def sharpen(im: PILImage.Image, op: Sharpen, ctx: OpContext) -> PILImage.Image:
    mask = ImageFilter.UnsharpMask(radius=1.5, percent=round(op.amount * 100), threshold=2)
    return on_rgb(im, lambda rgb: rgb.filter(mask))


def pixelate(im: PILImage.Image, op: Pixelate, ctx: OpContext) -> PILImage.Image:
    small = (max(1, math.ceil(im.width / op.size)), max(1, math.ceil(im.height / op.size)))
    ctx.check_size(im.width, im.height, "size", extra=image_bytes((small[0] * op.size, small[1] * op.size)))
    blocks = im.resize(small, PILImage.Resampling.BOX)
    scaled = blocks.resize((small[0] * op.size, small[1] * op.size), PILImage.Resampling.NEAREST)
    return scaled.crop((0, 0, im.width, im.height))
