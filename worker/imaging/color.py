"""Pixel modes and colour: every decoded frame becomes L, RGB or RGBA in sRGB.

Handles palette (+transparency), LA, 16-bit (I;16*), 32-bit I/F, 1-bit, CMYK (with or
without an ICC profile), LAB, YCbCr/RGBX/HSV, and embedded ICC profiles (converted to sRGB
with LittleCMS, perceptual intent). A broken or mismatched profile is ignored, as browsers do.
"""

from __future__ import annotations

import hashlib
import io
import threading
from typing import Final

from PIL import Image as PILImage
from PIL import ImageCms

WORKING_MODES: Final = ("L", "RGB", "RGBA")
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_LAB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
_SPACE_FOR_MODE: Final = {"L": "GRAY", "RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK"}
_transforms: dict[tuple[str, str, str], ImageCms.ImageCmsTransform | None] = {}
_transforms_lock = threading.Lock()


def has_alpha(im: PILImage.Image) -> bool:
    return im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in im.info


def is_srgb_profile(icc: bytes) -> bool:
    """True when an embedded profile is (a flavour of) sRGB, so no conversion is needed."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return "srgb" in description.lower().replace(" ", "")


def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached ICC→sRGB transform, or None when the profile is unusable for ``in_mode``."""
    key = (hashlib.sha1(icc, usedforsecurity=False).hexdigest(), in_mode, out_mode)
    with _transforms_lock:
        if key in _transforms:
            return _transforms[key]
    transform: ImageCms.ImageCmsTransform | None = None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip().upper()
        description = ImageCms.getProfileDescription(profile).lower().replace(" ", "")
        if space == _SPACE_FOR_MODE.get(in_mode) and not (space == "RGB" and "srgb" in description):
            transform = ImageCms.buildTransform(
                profile, _SRGB, in_mode, out_mode, renderingIntent=ImageCms.Intent.PERCEPTUAL
            )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        transform = None
    with _transforms_lock:
        if len(_transforms) > 32:
            _transforms.clear()
        _transforms[key] = transform
    return transform


def _apply_profile(im: PILImage.Image, icc: bytes | None) -> PILImage.Image | None:
    """Convert ``im`` (L, RGB, RGBA or CMYK) from its embedded profile to sRGB; None if not applicable."""
    if not icc:
        return None
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    transform = _transform(icc, im.mode, out_mode)
    if transform is None:
        return None
    try:
        return transform.apply(im)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _sixteen_to_eight(value: float) -> float:
    return value * (1 / 257)


def to_working(im: PILImage.Image, icc: bytes | None = None) -> PILImage.Image:
    """Any decoded frame → L, RGB or RGBA in sRGB, with an empty ``info`` (no metadata rides along)."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        im = im.point(_sixteen_to_eight).convert("L")  # 16-bit grey: scale to 0-255, then narrow
    elif mode in ("F", "1"):
        im = im.convert("L")
    elif mode in ("P", "PA", "LA", "La", "RGBa") or (mode in ("L", "RGB") and "transparency" in im.info):
        im = im.convert("RGBA" if has_alpha(im) or mode == "PA" else "RGB")
    elif mode == "LAB":
        im = ImageCms.applyTransform(im, ImageCms.buildTransform(_LAB, _SRGB, "LAB", "RGB")) or im
    elif mode == "CMYK":
        im = _apply_profile(im, icc) or im.convert("RGB")
        icc = None
    elif mode not in WORKING_MODES:
        im = im.convert("RGBA" if has_alpha(im) else "RGB")
    if im.mode == "RGBA" and im.getchannel("A").getextrema()[0] == 255:
        im = im.convert("RGB")  # fully opaque alpha carries nothing
    converted = _apply_profile(im, icc)
    if converted is not None:
        im = converted
    im.info = {}
    return im


def flatten(im: PILImage.Image, background: tuple[int, int, int] = (255, 255, 255)) -> PILImage.Image:
    """Composite an image with alpha onto an opaque background (for formats without alpha)."""
    if im.mode not in ("RGBA", "LA"):
        return im if im.mode in ("L", "RGB") else im.convert("RGB")
    canvas = PILImage.new("RGB", im.size, background)
    canvas.paste(im.convert("RGBA"), (0, 0), im.getchannel("A"))
    return canvas


def ensure_rgb(im: PILImage.Image) -> PILImage.Image:
    """L → RGB (keeps RGB/RGBA as they are): operations that colour pixels need three channels."""
    if im.mode in ("RGB", "RGBA"):
        return im
    return im.convert("RGBA" if has_alpha(im) else "RGB")
