"""BlurHash: format, and a decoder check that the hash describes the image."""

from __future__ import annotations

import math

import pytest
from PIL import Image as PILImage

from tests.support.imaging import halves
from worker.imaging.blurhash import encode_blurhash, placeholder

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _decode83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + ALPHABET.index(char)
    return value


def _srgb_to_linear(v: int) -> float:
    x = v / 255
    return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(v: float) -> int:
    v = max(0.0, min(1.0, v))
    return round((v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055) * 255)


def decode_blurhash(text: str, width: int, height: int) -> list[list[tuple[int, int, int]]]:
    """Reference decoding (per the BlurHash spec), to check what the hash describes."""
    size_flag = _decode83(text[0])
    nx, ny = size_flag % 9 + 1, size_flag // 9 + 1
    max_value = (_decode83(text[1]) + 1) / 166
    dc = _decode83(text[2:6])
    colours = [(_srgb_to_linear(dc >> 16), _srgb_to_linear((dc >> 8) & 255), _srgb_to_linear(dc & 255))]
    for i in range(1, nx * ny):
        value = _decode83(text[4 + i * 2 : 6 + i * 2])
        quant = (value // (19 * 19), (value // 19) % 19, value % 19)
        colours.append(tuple(math.copysign(((q - 9) / 9) ** 2, q - 9) * max_value for q in quant))  # type: ignore[arg-type]
    rows = []
    for y in range(height):
        row = []
        for x in range(width):
            r = g = b = 0.0
            for j in range(ny):
                for i in range(nx):
                    basis = math.cos(math.pi * x * i / width) * math.cos(math.pi * y * j / height)
                    c = colours[i + j * nx]
                    r, g, b = r + c[0] * basis, g + c[1] * basis, b + c[2] * basis
            row.append((_linear_to_srgb(r), _linear_to_srgb(g), _linear_to_srgb(b)))
        rows.append(row)
    return rows


def test_solid_colour_hash() -> None:
    text = encode_blurhash(PILImage.new("RGB", (64, 48), (200, 100, 50)), 4, 3)
    assert len(text) == 6 + 2 * 11  # size flag, AC maximum, DC (4), 11 AC components (2 each)
    assert all(ch in ALPHABET for ch in text)
    assert _decode83(text[0]) == 3 + 2 * 9
    assert _decode83(text[2:6]) == (200 << 16) + (100 << 8) + 50
    for row in decode_blurhash(text, 16, 12):
        for pixel in row:
            assert all(abs(a - b) <= 20 for a, b in zip(pixel, (200, 100, 50), strict=True)), pixel


def test_hash_describes_a_red_left_blue_right_image() -> None:
    text = placeholder(halves(320, 240))
    pixels = decode_blurhash(text, 32, 24)
    left, right = pixels[12][3], pixels[12][28]
    assert left[0] > 150 and left[2] < 110, left
    assert right[2] > 150 and right[0] < 110, right


def test_portrait_uses_more_vertical_components() -> None:
    assert _decode83(placeholder(PILImage.new("RGB", (30, 60), (1, 2, 3)))[0]) == 2 + 3 * 9
    assert _decode83(placeholder(PILImage.new("RGB", (60, 30), (1, 2, 3)))[0]) == 3 + 2 * 9


def test_alpha_is_flattened_on_white() -> None:
    text = encode_blurhash(PILImage.new("RGBA", (16, 16), (0, 0, 0, 0)), 1, 1)
    assert _decode83(text[2:6]) == 0xFFFFFF


def test_bad_component_count() -> None:
    with pytest.raises(ValueError, match="components"):
        encode_blurhash(PILImage.new("RGB", (4, 4)), 0, 3)
