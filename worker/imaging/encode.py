"""Encoders: working frames → bytes, never carrying EXIF, XMP or ICC (outputs are sRGB).

Settings were picked with ``bench/variants.py``-style measurements on photo-like images
(2 cores, Pillow 13 / libjpeg-turbo / libwebp / libavif):

* JPEG quality 82, Huffman ``optimize`` (−10 % bytes for ~2x the entropy-coding time, still
  ≤ 0.13 s at 12 MP), 4:2:0 chroma, baseline: progressive saves only another 2 % for
  2.3x the encode time (callers can ask for it with ``convert``). Quality 85 costs +17 %
  bytes for +0.2 dB.
* WebP quality 80; ``method`` 4 up to 2 MP, ``method`` 1 above. At 12 MP, q80: method 1
  takes 0.56 s for 1.99 MB at 35.09 dB, method 2 0.82 s / 1.94 MB / 35.02 dB, method 3
  1.88 s / 1.98 MB / 35.17 dB, method 4 1.79 s; on ≤ 2 MP sizes method 4 is cheap
  (0.15 s at 1440x1080) and 4 % smaller than method 2.
* AVIF quality 60; ``speed`` 6 up to 2 MP, 8 above (speed 6 is 2x slower for −7 % bytes).
* PNG ``compress_level`` 6 up to 2 MP, 3 above (on photos level 6 is ~3x slower for −6-10 %).
* GIF: Pillow's adaptive palette; animations keep per-frame durations and the loop count.

Images with alpha are flattened onto ``background`` (white) for JPEG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image as PILImage

from jobs.contract.constants import OUTPUT_FORMATS
from jobs.contract.errors import InvalidRequest, MediaFailed
from worker.imaging.color import flatten, has_alpha
from worker.imaging.memfile import write_to_bytes
from worker.imaging.sniff import AVIF_SUPPORTED
from worker.imaging.types import Encoded

JPEG_QUALITY: Final = 82
WEBP_QUALITY: Final = 80
AVIF_QUALITY: Final = 60
BIG_OUTPUT_PIXELS: Final = 2_000_000
ANIMATED_OUTPUTS: Final = frozenset({"gif", "webp"})
# block encoders that write sequentially and run without the GIL when given a file (memfile)
GIL_FREE_ON_A_FILE: Final = frozenset({"jpeg", "png", "gif"})
ALPHA_OUTPUTS: Final = frozenset({"png", "webp", "avif", "gif"})
# Into a Python buffer Pillow's JPEG/PNG/GIF encoders hold the GIL; two of them on two threads
# convoy (measured: 1 MP PNG master + sizes 0.54 s in turn, 0.95 s concurrently); libwebp and
# libavif release it. ``_save`` gives them a memfd where there is one (then they release it
# too), but a job's master and sizes are still encoded one after the other for these formats:
# the order was measured that way and the default pools run one imaging thread per job anyway.
GIL_BOUND_OUTPUTS: Final = frozenset({"jpeg", "png", "gif"})
_PIL_NAMES: Final = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "gif": "GIF"}


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    """Caller-tunable encoder options (from a ``convert`` operation); None means our default."""

    quality: int | None = None
    lossless: bool = False
    progressive: bool | None = None
    background: tuple[int, int, int] = (255, 255, 255)


DEFAULT_OPTIONS: Final = EncodeOptions()


def default_output_format(source_format: str, has_alpha: bool) -> str:
    """Same format when it is a web output format; HEIF → jpeg; others → png with alpha, else jpeg."""
    if source_format in OUTPUT_FORMATS:
        return source_format
    if source_format == "heif":
        return "jpeg"
    return "png" if has_alpha else "jpeg"


def check_output_format(fmt: str | None, field: str = "output_format") -> str | None:
    if fmt is None:
        return None
    normal = {"jpg": "jpeg"}.get(fmt.lower(), fmt.lower())
    if normal not in OUTPUT_FORMATS or (normal == "avif" and not AVIF_SUPPORTED):
        known = ", ".join(OUTPUT_FORMATS)
        raise InvalidRequest(f"unsupported output format {fmt!r}; use one of {known}", field=field)
    return normal


def _params(fmt: str, pixels: int, options: EncodeOptions) -> dict[str, Any]:
    big = pixels > BIG_OUTPUT_PIXELS
    if fmt == "jpeg":
        return {
            "quality": options.quality or JPEG_QUALITY,
            "optimize": True,
            "progressive": bool(options.progressive),
            "subsampling": "4:2:0",
        }
    if fmt == "webp":
        if options.lossless:
            return {"lossless": True, "quality": options.quality or 60, "method": 1 if big else 4}
        return {"quality": options.quality or WEBP_QUALITY, "method": 1 if big else 4}
    if fmt == "avif":
        if options.lossless:
            return {"quality": 100, "subsampling": "4:4:4", "speed": 8 if big else 6}
        return {"quality": options.quality or AVIF_QUALITY, "speed": 8 if big else 6}
    if fmt == "png":
        return {"compress_level": 3 if big else 6}
    return {"interlace": bool(options.progressive)}  # gif


def _prepare(im: PILImage.Image, fmt: str, options: EncodeOptions) -> PILImage.Image:
    """Mode the encoder accepts; alpha flattened where the format has none; no metadata."""
    if fmt == "jpeg":
        im = flatten(im, options.background)
    else:
        accepted = ("RGB", "RGBA") if fmt in ("webp", "avif") else ("L", "RGB", "RGBA", "P")
        if im.mode not in accepted:
            im = im.convert("RGBA" if has_alpha(im) else "RGB")
    if im.info:
        im.info = {}
    return im


def encoding_bytes(images: Sequence[PILImage.Image], fmt: str) -> int:
    """Pixel memory encoding ``images`` allocates besides them (for the job's memory budget):
    a working copy of one frame (JPEG's flattened alpha, the encoder's own planes) and, for an
    animation, a palette or difference image per frame (Pillow's GIF writer keeps them all)."""
    return frames_encoding_bytes(images[0].size, len(images), fmt)


def frames_encoding_bytes(size: tuple[int, int], frames: int, fmt: str) -> int:
    """:func:`encoding_bytes` of ``frames`` frames of ``size`` (before they exist)."""
    pixels = size[0] * size[1]
    animated = frames > 1 and fmt in ANIMATED_OUTPUTS
    return 4 * pixels + (frames * pixels if animated else 0)


def encode(
    images: PILImage.Image | Sequence[PILImage.Image],
    fmt: str,
    options: EncodeOptions = DEFAULT_OPTIONS,
    *,
    durations: Sequence[int] | None = None,
    loop: int | None = 0,
) -> Encoded:
    """Encode one frame, or an animation when several frames are given and ``fmt`` animates."""
    frames = [images] if isinstance(images, PILImage.Image) else list(images)
    if not frames:
        raise ValueError("nothing to encode")
    if fmt not in ANIMATED_OUTPUTS:
        frames = frames[:1]
    first = frames[0]
    params = _params(fmt, first.width * first.height, options)
    prepared = [_prepare(frame, fmt, options) for frame in frames]
    try:
        if len(prepared) > 1:
            params |= {
                "save_all": True,
                "append_images": prepared[1:],
                "duration": list(durations or [100] * len(prepared)),
            }
            if fmt == "gif":
                params["disposal"] = 2
                if loop is not None:
                    params["loop"] = loop
            else:
                params["loop"] = 1 if loop is None else loop
        data = _save(prepared[0], fmt, params)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise MediaFailed(f"The image could not be encoded as {fmt}: {exc}") from exc
    return Encoded(data=data, format=fmt, width=first.width, height=first.height, frames=len(prepared))


def _save(image: PILImage.Image, fmt: str, params: dict[str, Any]) -> bytes:
    if fmt in GIL_FREE_ON_A_FILE:
        return write_to_bytes(lambda fp: image.save(fp, _PIL_NAMES[fmt], **params))
    buffer = io.BytesIO()  # WebP and AVIF encode in memory and release the GIL themselves
    image.save(buffer, _PIL_NAMES[fmt], **params)
    return buffer.getvalue()
