"""Image builders for the imaging tests: known colour regions, crafted files, ICC profiles.

Importing it registers pillow-heif's opener, so HEIF/AVIF builders and readers work."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

import pillow_heif
from PIL import Image as PILImage

pillow_heif.register_heif_opener()

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


# --- building pixels -------------------------------------------------------------------------


def halves(
    width: int = 200,
    height: int = 100,
    left: tuple[int, ...] = RED,
    right: tuple[int, ...] = BLUE,
    mode: str = "RGB",
) -> PILImage.Image:
    """Left half one colour, right half another."""
    image = PILImage.new(mode, (width, height), right)
    image.paste(left, (0, 0, width // 2, height))
    return image


def quadrant(
    width: int, height: int, corner: tuple[int, ...] = RED, rest: tuple[int, ...] = BLUE
) -> PILImage.Image:
    """``rest`` everywhere but the top-left quadrant."""
    image = PILImage.new("RGB", (width, height), rest)
    image.paste(corner, (0, 0, width // 2, height // 2))
    return image


def encode(image: PILImage.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def open_bytes(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


def rgb_at(data_or_image: bytes | PILImage.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    image = open_bytes(data_or_image) if isinstance(data_or_image, bytes) else data_or_image
    pixel = image.convert("RGBA").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def close(actual: Sequence[int], expected: Sequence[int], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def frames(data: bytes) -> int:
    return int(getattr(PILImage.open(io.BytesIO(data)), "n_frames", 1))


def animated_gif(colours: Sequence[tuple[int, int, int]], size: tuple[int, int] = (40, 30)) -> bytes:
    images = [PILImage.new("RGB", size, colour) for colour in colours]
    return encode(
        images[0], "GIF", save_all=True, append_images=images[1:], duration=[50] * len(images), loop=0
    )


def exif_bytes(orientation: int | None = None, **extra: object) -> bytes:
    exif = PILImage.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "DarkroomTestCam"  # Make
    exif[0x0110] = "Model-T"
    return exif.tobytes()


# --- crafted files ---------------------------------------------------------------------------


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` but whose IDAT holds a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png16(width: int, height: int, values: Sequence[int], colour_type: int) -> bytes:
    """A real 16-bit PNG: grey (colour_type 0, one value) or RGBA (6, four values)."""
    pixel = b"".join(struct.pack(">H", v) for v in values)
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + b"\x00" * 8  # unicode language code + count
        + b"\x00\x00\x00"  # scriptcode code + count
        + b"\x00" * 67
    )


SRGB_D50 = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
ADOBE_RGB_D50 = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
SWAPPED_RB_D50 = (SRGB_D50[2], SRGB_D50[1], SRGB_D50[0])  # "red" channel shows sRGB blue


def rgb_icc_profile(description: str, colorants: Sequence[Sequence[float]], gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile (enough for LittleCMS)."""
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00"
    tags = [
        (b"desc", _desc(description)),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*colorants[0])),
        (b"gXYZ", _xyz(*colorants[1])),
        (b"bXYZ", _xyz(*colorants[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00public domain\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, payload in tags:
        payload += b"\x00" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(payload))
        body += payload
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\x00\x00\x00\x00"
        + b"\x02\x10\x00\x00"
        + b"mntrRGB XYZ "
        + b"\x07\xe8\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00"
        + b"acsp"
        + b"\x00" * 24
        + b"\x00\x00\x00\x00"  # intent
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\x00" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


# --- metadata -------------------------------------------------------------------------------


def metadata_found(data: bytes) -> list[str]:
    """Names of metadata carried by an encoded image (empty list = clean)."""
    image = PILImage.open(io.BytesIO(data))
    found = [
        key for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment") if image.info.get(key)
    ]
    if len(image.getexif()):
        found.append("getexif")
    for marker, name in (
        (b"Exif\x00\x00", "exif-bytes"),
        (b"ICC_PROFILE", "icc-bytes"),
        (b"http://ns.adobe.com/xap/1.0/", "xmp-bytes"),
        (b"DarkroomTestCam", "camera-make"),
    ):
        if marker in data:
            found.append(name)
    return found
