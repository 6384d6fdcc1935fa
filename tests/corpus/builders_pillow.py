"""Builders that use Pillow (and pillow_heif) encoders to produce valid but awkward images.

Each builder draws a deterministic picture (gradients plus seeded noise) and encodes it with fixed
parameters, so two runs in the same environment produce byte-identical files.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pillow_heif
from PIL import Image as PILImage

from tests.corpus import builders_raw

_ORIENTATION_TAG = 0x0112
_IMAGE_DESCRIPTION_TAG = 0x010E
_MAX_EXIF_PAYLOAD = 65533  # APP1 length field (65535) minus its own two bytes


def picture(width: int, height: int, *, seed: int = 0, noise: int = 24) -> PILImage.Image:
    """An RGB picture: horizontal/vertical gradients, seeded noise and a red top-left marker.

    The marker makes orientation visible: after EXIF auto-orientation it must land elsewhere.
    """
    red = PILImage.linear_gradient("L").rotate(90).resize((width, height))
    green = PILImage.linear_gradient("L").resize((width, height))
    blue = PILImage.frombytes("L", (width, height), random.Random(seed).randbytes(width * height))
    blue = blue.point(lambda v: 128 + v * noise // 255 - noise // 2)
    img = PILImage.merge("RGB", (red, green, blue))
    img.paste((255, 0, 0), (0, 0, max(width // 6, 1), max(height // 6, 1)))
    return img


def posterized(img: PILImage.Image, colors: int = 16) -> PILImage.Image:
    """Few flat colours, so uncompressed-ish formats (TIFF LZW, BMP) stay small."""
    return img.quantize(colors, dither=PILImage.Dither.NONE).convert("RGB")


def encode(img: PILImage.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(width: int, height: int, *, seed: int = 0, **params: Any) -> bytes:
    return encode(picture(width, height, seed=seed), "JPEG", quality=85, **params)


def jpeg_orientation(orientation: int, width: int = 300, height: int = 200) -> bytes:
    exif = PILImage.Exif()
    exif[_ORIENTATION_TAG] = orientation
    return jpeg(width, height, seed=orientation, exif=exif)


def jpeg_cmyk(width: int, height: int) -> bytes:
    return encode(picture(width, height, seed=5).convert("CMYK"), "JPEG", quality=85)


def jpeg_huge_metadata(width: int, height: int) -> bytes:
    """A maximal EXIF APP1 + a 44 KB XMP APP1 + a 65000-byte COM segment.

    Pillow pads the EXIF value to an even length, so the APP1 payload tops out at 65532 of the 65533
    bytes a segment can hold.
    """
    exif = PILImage.Exif()
    padding = "".join(f"EXIF-padding-{i:05d}|" for i in range(4000))
    size = _MAX_EXIF_PAYLOAD
    while True:  # the value may be word-aligned, so shrink until the segment fits exactly or just under
        exif[_IMAGE_DESCRIPTION_TAG] = padding[:size]
        if len(exif.tobytes()) <= _MAX_EXIF_PAYLOAD:
            break
        size -= 1
    xmp_body = b"".join(b'<rdf:li xml:lang="x-default">lorem ipsum %05d</rdf:li>' % i for i in range(800))
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b"<rdf:Description><dc:description><rdf:Alt>" + xmp_body + b"</rdf:Alt></dc:description>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    comment = (b"COMMENT " * 8125)[:65000]
    return jpeg(width, height, seed=7, exif=exif, xmp=xmp, comment=comment)


def jpeg_garbage_exif(width: int, height: int) -> bytes:
    """An APP1 'Exif' segment whose TIFF structure is garbage (bad byte order, then a broken IFD)."""
    return jpeg(width, height, seed=9, exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\xa5" * 64)


def jpeg_truncated(fraction: float) -> bytes:
    data = jpeg(320, 240, seed=11)
    return data[: int(len(data) * fraction)]


def png(img: PILImage.Image, **params: Any) -> bytes:
    return encode(img, "PNG", **params)


def png_truncated_mid_idat() -> bytes:
    return builders_raw.png_cut_mid_idat(png(picture(256, 192, seed=13, noise=255)))


def png_gray16(width: int, height: int) -> bytes:
    card = picture(width, height, seed=17).convert("L")
    return png(card.convert("I").point(lambda v: v * 257).convert("I;16"))


def png_palette_trns(width: int, height: int) -> bytes:
    img = picture(width, height, seed=19).quantize(colors=16, dither=PILImage.Dither.NONE)
    img.paste(0, (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    return png(img, transparency=0)  # palette index 0 becomes fully transparent via tRNS


def png_la(width: int, height: int) -> bytes:
    card = picture(width, height, seed=23)
    return png(PILImage.merge("LA", (card.convert("L"), card.getchannel("G"))))


def png_gray(width: int, height: int, value: int = 7) -> bytes:
    return png(PILImage.new("L", (width, height), value))


def gif_animated(frames: int, width: int, height: int) -> bytes:
    """A looping GIF whose frames all differ (Pillow drops identical consecutive frames)."""
    images = [picture(width, height, seed=29).rotate(i * 360 / frames).quantize(16) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)


def apng_frames(frames: int, width: int = 4, height: int = 4) -> bytes:
    images = [
        PILImage.new("RGB", (width, height), (i % 256, 255 - i % 256, i * 7 % 256)) for i in range(frames)
    ]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:], duration=20, loop=0)


def gif_js_polyglot(height: int = 10) -> bytes:
    """A GIF whose logical screen width is 0x2A2F, i.e. the bytes '/*': the header reads ``GIF89a/*``.

    Everything up to the GIF trailer ';' sits inside a JavaScript comment, which the appended
    ``*/=alert(...)`` closes: as a script the file is ``GIF89a/*...*/=alert(document.domain);``.
    """
    width = 0x2A2F  # 10799
    img = PILImage.new("P", (width, height), 0)
    img.putpalette([0, 0, 0, 255, 255, 255])
    img.paste(1, (0, 0, width // 2, height))
    data = encode(img, "GIF", comment=b"polyglot")  # a comment forces the GIF89a signature
    if not data.startswith(b"GIF89a/*") or b"*/" in data:
        raise AssertionError("the GIF body must open a JS comment and never close it")
    return data + b"*/=alert(document.domain);\n"


def webp(width: int, height: int) -> bytes:
    return encode(picture(width, height, seed=31), "WEBP", quality=80, method=4)


def tiff_pages(sizes: list[tuple[int, int]]) -> bytes:
    pages = [posterized(picture(w, h, seed=37 + i, noise=0)) for i, (w, h) in enumerate(sizes)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")


def bmp(width: int, height: int) -> bytes:
    return encode(picture(width, height, seed=41), "BMP")


def heic(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    pillow_heif.from_pillow(picture(width, height, seed=43)).save(buf, format="HEIF", quality=60)
    return buf.getvalue()


def avif(width: int, height: int) -> bytes:
    return encode(picture(width, height, seed=47), "AVIF", quality=60)
