"""Colour operations: modulate, grayscale, sepia, invert, duotone, tint. Alpha is preserved."""

from __future__ import annotations

from typing import Final

from PIL import Image as PILImage
from PIL import ImageEnhance, ImageOps

from jobs.contract.operations import Duotone, Grayscale, Invert, Modulate, Sepia, Tint, parse_color
from worker.imaging.operations.base import OpContext, on_rgb, split_alpha

_SEPIA: Final = (
    0.393, 0.769, 0.189, 0.0,
    0.349, 0.686, 0.168, 0.0,
    0.272, 0.534, 0.131, 0.0,
)  # fmt: skip


def modulate(im: PILImage.Image, op: Modulate, ctx: OpContext) -> PILImage.Image:
    def apply(rgb: PILImage.Image) -> PILImage.Image:
        if op.brightness != 1:
            rgb = ImageEnhance.Brightness(rgb).enhance(op.brightness)
        if op.contrast != 1:
            rgb = ImageEnhance.Contrast(rgb).enhance(op.contrast)
        if op.saturation != 1:
            rgb = ImageEnhance.Color(rgb).enhance(op.saturation)
        return rgb

    return on_rgb(im, apply)


def grayscale(im: PILImage.Image, op: Grayscale, ctx: OpContext) -> PILImage.Image:
    rgb, alpha = split_alpha(im)
    grey = ImageOps.grayscale(rgb)
    if alpha is None:
        return grey  # an L image: smaller JPEG/PNG, and later colour ops convert back
    return PILImage.merge("RGBA", (grey, grey, grey, alpha))


def sepia(im: PILImage.Image, op: Sepia, ctx: OpContext) -> PILImage.Image:
    return on_rgb(im, lambda rgb: rgb.convert("RGB", _SEPIA))


def invert(im: PILImage.Image, op: Invert, ctx: OpContext) -> PILImage.Image:
    return on_rgb(im, ImageOps.invert)


def duotone(im: PILImage.Image, op: Duotone, ctx: OpContext) -> PILImage.Image:
    dark, light = parse_color(op.dark)[:3], parse_color(op.light)[:3]
    return on_rgb(im, lambda rgb: ImageOps.colorize(ImageOps.grayscale(rgb), black=dark, white=light))


def tint(im: PILImage.Image, op: Tint, ctx: OpContext) -> PILImage.Image:
    r, g, b, a = parse_color(op.color)
    opacity = op.opacity * a / 255
    return on_rgb(im, lambda rgb: PILImage.blend(rgb, PILImage.new("RGB", rgb.size, (r, g, b)), opacity))
