"""EXIF Orientation: read it without decoding, apply it after decoding."""

from __future__ import annotations

from typing import Final

from PIL import Image as PILImage

ORIENTATION_TAG: Final = 0x0112
_TRANSPOSE: Final = {
    2: PILImage.Transpose.FLIP_LEFT_RIGHT,
    3: PILImage.Transpose.ROTATE_180,
    4: PILImage.Transpose.FLIP_TOP_BOTTOM,
    5: PILImage.Transpose.TRANSPOSE,
    6: PILImage.Transpose.ROTATE_270,
    7: PILImage.Transpose.TRANSVERSE,
    8: PILImage.Transpose.ROTATE_90,
}
# Decoders that already apply orientation themselves (and then report it as 1 / drop the tag).
_SELF_ORIENTING: Final = {"tiff", "heif", "gif", "bmp"}


def read_orientation(im: PILImage.Image, fmt: str) -> int:
    """The EXIF Orientation (1-8) still to apply; 1 when absent, invalid or already applied.

    Never forces a pixel decode: a PNG whose eXIf chunk sits after the image data reports 1
    here and is re-read after loading (:func:`read_loaded_orientation`).
    """
    if fmt in _SELF_ORIENTING or (fmt == "png" and "exif" not in im.info):
        return 1
    try:
        value = im.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError, TypeError, KeyError, IndexError):
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def read_loaded_orientation(im: PILImage.Image, fmt: str) -> int:
    """Same as :func:`read_orientation`, for an image whose pixels are loaded."""
    if fmt != "png":
        return read_orientation(im, fmt)
    try:
        value = im.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError, TypeError, KeyError, IndexError):
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def swaps_axes(orientation: int) -> bool:
    return orientation in (5, 6, 7, 8)


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if swaps_axes(orientation) else (width, height)


def apply_orientation(im: PILImage.Image, orientation: int) -> PILImage.Image:
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)
