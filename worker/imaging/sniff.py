"""Identify an input from its first bytes, before Pillow sees it.

Only an allowlist of raster formats reaches a decoder. Recognised formats we do not
decode (SVG, XML, HTML, PDF, PSD, video, ...) raise :class:`UnsupportedMediaType`; anything
else that is not an image (text, empty, garbage) raises :class:`MediaFailed`.
"""

from __future__ import annotations

from typing import Final

from PIL import features

from jobs.contract.errors import MediaFailed, UnsupportedMediaType
from jobs.contract.web_formats import web_format

AVIF_SUPPORTED: Final = bool(features.check("avif"))  # Pillow ≥ 11.3 wheels ship libavif

# our format name -> Pillow plugin ids allowed to open it
PIL_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "jpeg": ("JPEG", "MPO"),
    "png": ("PNG",),
    "gif": ("GIF",),
    "webp": ("WEBP",),
    "tiff": ("TIFF",),
    "bmp": ("BMP",),
    "heif": ("HEIF",),
    "avif": ("AVIF",),
}

_HEVC_BRANDS: Final = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS: Final = _HEVC_BRANDS | {b"mif1", b"msf1", b"heif"}
_AVIF_BRANDS: Final = {b"avif", b"avis"}
_BMP_HEADER_SIZES: Final = {12, 40, 52, 56, 64, 108, 124}

_UNSUPPORTED_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "PDF"),
    (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL"),
    (b"qoif", "QOI"),
    (b"DDS ", "DDS"),
    (b"v/1\x01", "OpenEXR"),
    (b"#?RADIANCE", "Radiance HDR"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"icns", "ICNS"),
    (b"gimp xcf", "GIMP XCF"),
    (b"FUJIFILMCCD-RAW", "RAF raw"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
)


def _iso_bmff_format(data: bytes) -> str:
    """``ftyp``-boxed files: HEIF/HEIC, AVIF, or some video/other container."""
    size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    end = min(len(data), size if 16 <= size <= 4096 else 64)
    brands = {major} | {data[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEVC_BRANDS:
        return "heif"
    if brands & _AVIF_BRANDS:  # generic major brand (mif1/msf1): the compatible brands decide
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    raise UnsupportedMediaType(f"unsupported ISO media file (brand {major.decode('latin-1')!r})")


def _text_kind(data: bytes) -> str | None:
    """Classify markup by its first kilobyte: ``svg``, ``xml``, ``html`` or None."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head.startswith(b"<"):
        return None
    if b"<svg" in head or head.startswith(b"<!doctype svg"):
        return "svg"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")) or b"<html" in head:
        return "html"
    if head.startswith(b"<?xml"):
        return "xml"
    return "html"


def sniff(data: bytes) -> str:
    """Return our format name (a key of :data:`PIL_FORMATS`) or raise."""
    if not data:
        raise MediaFailed("The file is empty.")
    web = web_format(data)
    if web is not None:
        return web
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if data.startswith(b"BM") and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    if data[4:8] == b"ftyp":
        fmt = _iso_bmff_format(data)
        if fmt == "avif" and not AVIF_SUPPORTED:
            raise UnsupportedMediaType("AVIF is not supported by this worker's Pillow build.")
        return fmt
    if data.startswith(b"RIFF"):
        raise UnsupportedMediaType(f"unsupported RIFF media ({data[8:12].decode('latin-1')!r})")
    for magic, name in _UNSUPPORTED_MAGIC:
        if data.startswith(magic):
            raise UnsupportedMediaType(f"{name} files are not supported.")
    kind = _text_kind(data)
    if kind == "svg":
        raise UnsupportedMediaType("SVG (vector) images are not supported; upload a raster image.")
    if kind == "xml":
        raise UnsupportedMediaType("XML documents are not supported.")
    if kind == "html":  # recognised, not an image: 415 like SVG/PDF (bad-input corpus)
        raise UnsupportedMediaType("The file is an HTML document, not an image.")
    raise MediaFailed("The file is not a recognised image.")
