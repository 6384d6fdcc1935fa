"""Byte-level builders: files crafted by hand (PNG chunks, GIF blocks, BMP/JPEG headers, text formats).

Nothing here uses Pillow's encoders, so the headers can lie about the payload. Every builder is a pure
function of its arguments (randomness comes from a seeded ``random.Random``), hence deterministic.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GIF_NETSCAPE_LOOP = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
# LZW data (min code size 2) for a single pixel of palette index 0 / 1: clear, index, end-of-information.
_GIF_1PX_LZW = (b"\x02\x02\x44\x01\x00", b"\x02\x02\x4c\x01\x00")
_JPEG_MAX_SEGMENT_PAYLOAD = 65533  # the 16-bit length field counts itself


# --- PNG -------------------------------------------------------------------------------------------


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 over type + data."""
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_ihdr(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))


def png_header_bomb(width: int, height: int, *, color_type: int = 2, rows: int = 16) -> bytes:
    """IHDR declares ``width`` x ``height`` but IDAT holds a tiny, valid zlib stream of ``rows`` black rows.

    A decoder that trusts the header and allocates first is the victim; the file stays a few KB.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = (b"\x00" + b"\x00" * width * channels) * rows  # filter byte 0 + zeroed samples
    return (
        PNG_SIGNATURE
        + png_ihdr(width, height, color_type=color_type)
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def png_rgb16(width: int, height: int) -> bytes:
    """A complete 16-bit-per-channel RGB PNG (Pillow can read it but cannot write it)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += struct.pack(
                ">HHH", x * 65535 // max(width - 1, 1), y * 65535 // max(height - 1, 1), 0x8000
            )
    return (
        PNG_SIGNATURE
        + png_ihdr(width, height, bit_depth=16, color_type=2)
        + png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + png_chunk(b"IEND", b"")
    )


def png_corrupt_ihdr_crc(png: bytes) -> bytes:
    """Flip the IHDR CRC of an otherwise valid PNG."""
    crc_at = len(PNG_SIGNATURE) + 8 + 13  # length + type + 13 data bytes
    out = bytearray(png)
    out[crc_at] ^= 0xFF
    return bytes(out)


def png_zero_width() -> bytes:
    return (
        PNG_SIGNATURE
        + png_ihdr(0, 16, color_type=0)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def png_cut_mid_idat(png: bytes) -> bytes:
    """Cut a PNG in the middle of its first IDAT chunk's data."""
    at = png.index(b"IDAT")
    (length,) = struct.unpack(">I", png[at - 4 : at])
    return png[: at + 4 + length // 2]


# --- GIF -------------------------------------------------------------------------------------------


def gif_frames(count: int, *, screen: tuple[int, int] = (1, 1)) -> bytes:
    """A looping GIF of ``count`` 1x1 frames alternating black/white, 23 bytes per frame."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    out += _GIF_NETSCAPE_LOOP
    for i in range(count):
        out += b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # graphic control: 20 ms delay
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + _GIF_1PX_LZW[i % 2]
    return bytes(out + b";")


# --- BMP / JPEG headers ----------------------------------------------------------------------------


def bmp_header_bomb(width: int, height: int) -> bytes:
    """A 24-bit BMP whose BITMAPINFOHEADER declares ``width`` x ``height`` followed by 64 pixel bytes."""
    pixels = b"\x00" * 64
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info)) + info + pixels


def jpeg_with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame size in the first SOFn segment of a valid JPEG (the scan stays tiny)."""
    pos = 2
    while pos < len(jpeg):
        marker, length = jpeg[pos + 1], struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            # FF Cn, length(2), precision(1), height(2), width(2)
            return jpeg[: pos + 5] + struct.pack(">HH", height, width) + jpeg[pos + 9 :]
        pos += 2 + length
    raise ValueError("no SOF segment found")


def jpeg_padded_to(jpeg: bytes, size: int) -> bytes:
    """Insert COM segments right after SOI until the file is exactly ``size`` bytes (still a valid JPEG)."""
    missing = size - len(jpeg)
    if missing < 0 or 0 < missing < 4:
        raise ValueError(f"cannot pad {len(jpeg)} bytes to {size}")
    segments = bytearray()
    while missing:
        payload = min(missing - 4, _JPEG_MAX_SEGMENT_PAYLOAD)
        if 0 < missing - 4 - payload < 4:  # never leave a remainder too small for a segment
            payload -= 4
        segments += b"\xff\xfe" + struct.pack(">H", payload + 2) + b"P" * payload
        missing -= payload + 4
    return jpeg[:2] + bytes(segments) + jpeg[2:]


# --- not images ------------------------------------------------------------------------------------


def random_bytes(size: int, *, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def plain_text() -> bytes:
    return b"This is not an image.\nJust a few lines of UTF-8 text: caf\xc3\xa9, na\xc3\xafve.\n" * 4


def html_page() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>not an image</title></head>\n"
        b'<body><img src="x" onerror="alert(document.domain)"><script>alert(1)</script></body></html>\n'
    )


def svg_image(*, prolog: bool) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n' if prolog else b"\n  "
    return head + (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480" viewBox="0 0 640 480">'
        b'<rect width="640" height="480" fill="#c33"/><script>alert(1)</script></svg>\n'
    )


def xml_billion_laughs() -> bytes:
    """The classic entity-expansion bomb (~3 GB if expanded). Written as text, never parsed here."""
    lines = [b'<?xml version="1.0"?>', b"<!DOCTYPE lolz [", b' <!ENTITY lol "lol">']
    for level in range(1, 10):
        prev = b"lol" if level == 1 else b"lol%d" % (level - 1)
        lines.append(b' <!ENTITY lol%d "%s">' % (level, b"".join([b"&" + prev + b";"] * 10)))
    lines += [b"]>", b"<lolz>&lol9;</lolz>", b""]
    return b"\n".join(lines)


def pdf_document() -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
        b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]>> endobj\n"
        b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def zip_archive() -> bytes:
    """A small ZIP with a fixed timestamp (ZipFile would otherwise stamp the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("payload/readme.txt", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, b"hidden payload appended after the JPEG EOI marker\n" * 8)
    return buf.getvalue()
