"""BlurHash encoder (https://blurha.sh), pure Python on a ≤ 32 px thumbnail (≈0.6 ms).

A 4x3-component hash (3x4 for portraits) is 28 characters; a UI decodes it into a
blurred preview while the real image loads.
"""

from __future__ import annotations

import math
import operator
from typing import Final

from PIL import Image as PILImage

from worker.imaging.color import flatten

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
THUMB_SIZE: Final = 32
_TO_LINEAR: Final = tuple(
    (v / 255) / 12.92 if v / 255 <= 0.04045 else (((v / 255) + 0.055) / 1.055) ** 2.4 for v in range(256)
)


def base83(value: int, length: int) -> str:
    return "".join(_ALPHABET[(value // 83 ** (length - i - 1)) % 83] for i in range(length))


def _to_srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    return round((v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055) * 255)


def _signed_pow(value: float, exp: float) -> float:
    return math.copysign(abs(value) ** exp, value)


def encode_blurhash(im: PILImage.Image, x_components: int = 4, y_components: int = 3) -> str:
    """BlurHash of ``im`` (any size; it is thumbnailed to ≤ 32 px, alpha flattened on white)."""
    if not (1 <= x_components <= 9 and 1 <= y_components <= 9):
        raise ValueError("BlurHash components must be 1..9")
    thumb = flatten(im)
    if thumb.width > THUMB_SIZE or thumb.height > THUMB_SIZE:
        scale = THUMB_SIZE / max(thumb.width, thumb.height)
        size = (max(1, round(thumb.width * scale)), max(1, round(thumb.height * scale)))
        thumb = thumb.resize(size, PILImage.Resampling.BOX)
    rgb = thumb.convert("RGB")
    width, height = rgb.size
    planes = [[_TO_LINEAR[v] for v in band.tobytes()] for band in rgb.split()]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(x_components)]
    cos_y = [[math.cos(math.pi * j * y / height) for y in range(height)] for j in range(y_components)]
    # The basis is separable: sum over x once per (row, i), then over y per (i, j); and
    # sum(map(mul, ...)) runs each inner product in C instead of a Python loop.
    rows = [[plane[y * width : (y + 1) * width] for y in range(height)] for plane in planes]
    row_sums = [[[sum(map(operator.mul, cx, row)) for row in plane] for cx in cos_x] for plane in rows]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            norm = (1.0 if i == 0 and j == 0 else 2.0) / (width * height)
            r, g, b = (sum(map(operator.mul, cos_y[j], sums[i])) * norm for sums in row_sums)
            factors.append((r, g, b))
    dc, ac = factors[0], factors[1:]
    parts = [base83((x_components - 1) + (y_components - 1) * 9, 1)]
    if ac:
        actual_max = max(abs(c) for f in ac for c in f)
        quantised_max = max(0, min(82, math.floor(actual_max * 166 - 0.5)))
        max_value = (quantised_max + 1) / 166
        parts.append(base83(quantised_max, 1))
    else:
        max_value = 1.0
        parts.append(base83(0, 1))
    parts.append(base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4))
    for f in ac:
        q = [max(0, min(18, math.floor(_signed_pow(c / max_value, 0.5) * 9 + 9.5))) for c in f]
        parts.append(base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2))
    return "".join(parts)


def placeholder(im: PILImage.Image) -> str:
    """The ``placeholder`` of an Image: 4x3 components for landscape, 3x4 for portrait."""
    return encode_blurhash(im, 4, 3) if im.width >= im.height else encode_blurhash(im, 3, 4)
