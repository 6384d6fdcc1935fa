"""Lossless JPEG master: keep the entropy-coded data, drop every metadata segment.

When the upload is already a web-safe JPEG (8-bit Huffman baseline/progressive, YCbCr or
grey, sRGB or untagged, Orientation 1, not bloated), re-encoding the master would only cost
time and add a generation of loss. Instead the marker stream is rebuilt without any APPn
(EXIF, XMP, ICC, IPTC, MPF, Adobe, JFIF thumbnails...) or COM segment and without trailing
data (MPO second images, vendor trailers); a minimal JFIF APP0 is written in front.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from worker.imaging.color import is_srgb_profile
from worker.imaging.decode import Source
from worker.imaging.types import Encoded

# Re-encode sources above this estimated IJG quality: they are bloated for web delivery.
MAX_COPY_QUALITY: Final = 92
_JFIF: Final = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_COPY_SOF: Final = {0xC0, 0xC1, 0xC2}  # baseline, extended sequential, progressive (Huffman)
_ANY_SOF: Final = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_MARKER_IN_SCAN: Final = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
_STD_LUMA: Final = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


def estimate_quality(qtables: Mapping[int, Sequence[int]]) -> int | None:
    """IJG quality (1-100) that would produce the luminance table, from its mean scale."""
    luma = qtables.get(0)
    if not luma or len(luma) != 64:
        return None
    scale = sum(luma) * 100 / sum(_STD_LUMA)
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return max(1, min(100, round(quality)))


def strip_jpeg(data: bytes) -> tuple[bytes, int, int] | None:
    """``(stripped, width, height)``, or None when the stream is not a copyable JPEG.

    A stream that is already stripped (our JFIF segment first, nothing else to drop) comes
    back as ``data`` itself, not an equal copy: callers then see at once that the master is
    the original (``is``), without comparing megabytes.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8", _JFIF]
    pos, end = 2, len(data)
    size: tuple[int, int] | None = None
    scanned = False
    unchanged = data.startswith(_JFIF, 2)  # so far, the output is byte for byte the input
    while pos + 1 < end:
        if data[pos] != 0xFF:
            return None
        while pos + 1 < end and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
            unchanged = False
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI: done; anything after it (MPO images, trailers) is dropped
            if size is None or not scanned:
                return None
            if unchanged and pos + 2 == end:
                return data, size[0], size[1]
            out.append(b"\xff\xd9")
            return b"".join(out), size[0], size[1]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > end:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        seg_end = pos + 2 + length
        if length < 2 or seg_end > end:
            return None
        if marker in _ANY_SOF:
            segment = data[pos:seg_end]
            if marker not in _COPY_SOF or length < 8 or segment[4] != 8 or size is not None:
                return None  # arithmetic/lossless/hierarchical, 12-bit or several frames
            components = segment[9] if len(segment) > 9 else 0
            if len(segment) < 10 + 3 * components:
                return None
            ids = bytes(segment[10 + 3 * i] for i in range(components))
            if components not in (1, 3) or ids == b"RGB":
                return None  # CMYK/YCCK, or an RGB-coded JPEG that a JFIF marker would mislabel
            height = int.from_bytes(segment[5:7], "big")
            width = int.from_bytes(segment[7:9], "big")
            if not width or not height:
                return None
            size = (width, height)
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):  # drop APPn and COM
            out.append(data[pos:seg_end])
        elif pos != 2:  # dropped (the first segment at 2, if ours, is what we wrote in front)
            unchanged = False
        pos = seg_end
        if marker == 0xDA:  # SOS: copy the entropy-coded data up to the next real marker
            match = _MARKER_IN_SCAN.search(data, pos)
            if match is None:
                return None
            out.append(data[pos : match.start()])
            pos = match.start()
            scanned = True
    return None


def lossless_master(src: Source) -> Encoded | None:
    """The stripped original as the master, when ``src`` qualifies; else None (re-encode)."""
    im = src.image
    info = src.info
    if info.format != "jpeg" or info.orientation != 1 or im.mode not in ("L", "RGB"):
        return None
    if src.icc is not None and not is_srgb_profile(src.icc):
        return None
    if im.info.get("adobe_transform") == 0 and im.mode == "RGB":
        return None
    quality = estimate_quality(getattr(im, "quantization", None) or {})
    if quality is None or quality > MAX_COPY_QUALITY:
        return None
    stripped = strip_jpeg(src.data)
    if stripped is None:
        return None
    data, width, height = stripped
    if (width, height) != (info.width, info.height):
        return None
    return Encoded(data=data, format="jpeg", width=width, height=height)
