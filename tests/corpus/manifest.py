"""The bad-input corpus: every file, how it is built, and what an upload worker must report for it.

``expect="ready"`` cases give the output size *after* EXIF auto-orientation; ``expect="failed"`` cases
give the public error code. Limits mirror ``worker.imaging.types.Limits`` defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from tests.corpus import builders_pillow as bp
from tests.corpus import builders_raw as br

MAX_PIXELS: Final = 50_000_000
MAX_FRAMES: Final = 100
MAX_INPUT_BYTES: Final = 20 * 1024 * 1024

MEDIA_FAILED: Final = "media_failed"
UNSUPPORTED: Final = "unsupported_media_type"
TOO_LARGE: Final = "too_large"
ERROR_CODES: Final = frozenset({MEDIA_FAILED, UNSUPPORTED, TOO_LARGE})


@dataclass(frozen=True)
class CorpusCase:
    filename: str
    expect: Literal["ready", "failed"]
    error_code: str | None
    width: int | None
    height: int | None
    description: str
    lazy: bool = False  # too big to keep on disk: call ``generator`` when needed
    generator: Callable[[], bytes] = field(kw_only=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.expect == "ready":
            ok = self.error_code is None and self.width is not None and self.height is not None
        else:
            ok = self.error_code in ERROR_CODES and self.width is None and self.height is None
        if not ok:
            raise ValueError(f"inconsistent corpus case {self.filename!r}")


def ready(
    filename: str,
    width: int,
    height: int,
    description: str,
    generator: Callable[[], bytes],
    *,
    lazy: bool = False,
) -> CorpusCase:
    return CorpusCase(filename, "ready", None, width, height, description, lazy, generator=generator)


def failed(
    filename: str, error_code: str, description: str, generator: Callable[[], bytes], *, lazy: bool = False
) -> CorpusCase:
    return CorpusCase(filename, "failed", error_code, None, None, description, lazy, generator=generator)


# fmt: off
CASES: list[CorpusCase] = [
    # --- undecodable: media_failed ----------------------------------------------------------------
    failed("truncated_60pct.jpg", MEDIA_FAILED, "320x240 JPEG cut at 60% of its bytes, inside the scan",
           lambda: bp.jpeg_truncated(0.6)),
    failed("truncated_mid_idat.png", MEDIA_FAILED, "256x192 noisy PNG cut in the middle of its IDAT data",
           bp.png_truncated_mid_idat),
    failed("empty.jpg", MEDIA_FAILED, "zero-byte file", lambda: b""),
    failed("one_byte.jpg", MEDIA_FAILED, "a single 0xFF byte (first byte of a JPEG marker)", lambda: b"\xff"),
    failed("random_bytes.png", MEDIA_FAILED, "4 KiB of seeded random bytes",
           lambda: br.random_bytes(4096, seed=1234)),
    failed("plain_text.jpg", MEDIA_FAILED, "UTF-8 prose, not an image", br.plain_text),
    failed("png_bad_ihdr_crc.png", MEDIA_FAILED, "valid 64x48 PNG with its IHDR CRC flipped",
           lambda: br.png_corrupt_ihdr_crc(bp.png(bp.picture(64, 48)))),
    failed("png_zero_width.png", MEDIA_FAILED, "PNG whose IHDR declares a width of 0", br.png_zero_width),
    # --- recognised, but not a raster we accept: unsupported_media_type ---------------------------
    failed("html_page.jpg", UNSUPPORTED, "HTML document with script, named .jpg", br.html_page),
    failed("svg_disguised.jpg", UNSUPPORTED, "SVG (no XML prolog, leading whitespace) named .jpg",
           lambda: br.svg_image(prolog=False)),
    failed("vector.svg", UNSUPPORTED, "SVG with XML prolog and an embedded script",
           lambda: br.svg_image(prolog=True)),
    failed("billion_laughs.png", UNSUPPORTED, "XML entity-expansion bomb named .png: sniff, never parse",
           br.xml_billion_laughs),
    failed("document_pdf.jpg", UNSUPPORTED, "minimal one-page PDF named .jpg", br.pdf_document),
    # --- over a limit, detectable from headers alone: too_large -----------------------------------
    failed("bomb_20000x20000.png", TOO_LARGE, "IHDR declares 20000x20000 RGB (400 MP), IDAT is ~1 KB",
           lambda: br.png_header_bomb(20000, 20000)),
    failed("just_over_max_pixels.png", TOO_LARGE, "IHDR declares 10000x5001 gray (50.01 MP > MAX_PIXELS)",
           lambda: br.png_header_bomb(10000, 5001, color_type=0, rows=4)),
    failed("bomb_sof_65000x65000.jpg", TOO_LARGE, "16x16 JPEG whose SOF0 was rewritten to 65000x65000",
           lambda: br.jpeg_with_sof_size(bp.jpeg(16, 16), 65000, 65000)),
    failed("bomb_30000x30000.bmp", TOO_LARGE, "BITMAPINFOHEADER declares 30000x30000 24 bpp, 64 pixel bytes",
           lambda: br.bmp_header_bomb(30000, 30000)),
    failed("screen_65535x65535.gif", TOO_LARGE, "GIF logical screen 65535x65535 holding one 1x1 frame",
           lambda: br.gif_frames(1, screen=(65535, 65535))),
    failed("frames_10000.gif", TOO_LARGE, "10 000 frames of 1x1 (~230 KB)", lambda: br.gif_frames(10_000)),
    failed("frames_101.gif", TOO_LARGE, "MAX_FRAMES + 1 frames of 1x1",
           lambda: br.gif_frames(MAX_FRAMES + 1)),
    failed("apng_101_frames.png", TOO_LARGE, "APNG, acTL declares MAX_FRAMES + 1 frames of 4x4",
           lambda: bp.apng_frames(MAX_FRAMES + 1)),
    failed("over_max_input_bytes.jpg", TOO_LARGE,
           "valid 64x48 JPEG padded with COM segments to MAX_INPUT_BYTES + 1 bytes",
           lambda: br.jpeg_padded_to(bp.jpeg(64, 48), MAX_INPUT_BYTES + 1), lazy=True),
    # --- awkward but valid: ready (sizes after EXIF auto-orientation) -----------------------------
    ready("exactly_max_input_bytes.jpg", 64, 48,
          "valid 64x48 JPEG padded with COM segments to exactly MAX_INPUT_BYTES (the limit is >)",
          lambda: br.jpeg_padded_to(bp.jpeg(64, 48), MAX_INPUT_BYTES), lazy=True),
    ready("frames_100.gif", 1, 1, "exactly MAX_FRAMES frames of 1x1", lambda: br.gif_frames(MAX_FRAMES)),
    ready("animated_5_frames.gif", 64, 48, "looping GIF, 5 distinct 64x48 frames",
          lambda: bp.gif_animated(5, 64, 48)),
    ready("cmyk.jpg", 300, 200, "CMYK JPEG (Adobe APP14)", lambda: bp.jpeg_cmyk(300, 200)),
    ready("gray_16bit.png", 64, 48, "16-bit grayscale PNG (Pillow mode I;16)", lambda: bp.png_gray16(64, 48)),
    ready("rgb_16bit.png", 40, 30, "16-bit-per-channel RGB PNG, hand-built chunks",
          lambda: br.png_rgb16(40, 30)),
    ready("palette_trns.png", 64, 48, "16-colour palette PNG, index 0 transparent via tRNS",
          lambda: bp.png_palette_trns(64, 48)),
    ready("gray_alpha_la.png", 64, 48, "grayscale + alpha (LA) PNG", lambda: bp.png_la(64, 48)),
    ready("exif_orientation_6.jpg", 200, 300, "300x200 stored, EXIF Orientation=6 (rotate 90 CW)",
          lambda: bp.jpeg_orientation(6)),
    ready("exif_orientation_8.jpg", 200, 300, "300x200 stored, EXIF Orientation=8 (rotate 90 CCW)",
          lambda: bp.jpeg_orientation(8)),
    ready("exif_orientation_3.jpg", 300, 200, "300x200 stored, EXIF Orientation=3 (rotate 180)",
          lambda: bp.jpeg_orientation(3)),
    ready("exif_orientation_invalid_9.jpg", 300, 200, "EXIF Orientation=9 (out of range): ignored",
          lambda: bp.jpeg_orientation(9)),
    ready("exif_garbage.jpg", 300, 200, "APP1 'Exif' with a broken TIFF structure: metadata ignored",
          lambda: bp.jpeg_garbage_exif(300, 200)),
    ready("huge_metadata.jpg", 320, 240, "maximal EXIF APP1 (~64 KB) + 44 KB XMP + 65000-byte COM",
          lambda: bp.jpeg_huge_metadata(320, 240)),
    ready("png_disguised.jpg", 64, 48, "a PNG named .jpg", lambda: bp.png(bp.picture(64, 48, seed=3))),
    ready("webp_disguised.png", 128, 96, "a lossy WebP named .png", lambda: bp.webp(128, 96)),
    ready("gif_js_polyglot.gif", 10799, 10, "GIF89a/* ... */=alert(...) GIF/JavaScript polyglot",
          bp.gif_js_polyglot),
    ready("zip_appended.jpg", 160, 120, "JPEG followed by a ZIP archive after EOI",
          lambda: bp.jpeg(160, 120, seed=53) + br.zip_archive()),
    ready("html_after_iend.png", 64, 48, "PNG with an HTML/script payload after IEND",
          lambda: bp.png(bp.picture(64, 48, seed=59)) + br.html_page()),
    ready("tiny_1x1.png", 1, 1, "1x1 RGB PNG", lambda: bp.png(bp.picture(1, 1))),
    ready("tall_1x65000.png", 1, 65000, "1 px wide, 65000 px tall grayscale PNG",
          lambda: bp.png_gray(1, 65000)),
    ready("two_pages.tiff", 320, 240, "2-page LZW TIFF (320x240 then 160x120): the first page counts",
          lambda: bp.tiff_pages([(320, 240), (160, 120)])),
    ready("rgb24.bmp", 101, 75, "24-bit BMP, odd width (row padding)", lambda: bp.bmp(101, 75)),
    ready("photo.heic", 160, 120, "HEIC written by pillow_heif", lambda: bp.heic(160, 120)),
    ready("photo.avif", 160, 120, "AVIF written by Pillow", lambda: bp.avif(160, 120)),
]
# fmt: on

CASES_BY_NAME: dict[str, CorpusCase] = {case.filename: case for case in CASES}
