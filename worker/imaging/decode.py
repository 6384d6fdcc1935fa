"""Open (header only, limits enforced) and decode inputs into working frames.

:func:`open_source` reads nothing but the header: size, frame count and format are
checked against :class:`Limits` before any pixel is allocated, so a PNG declaring
20000x20000 fails in microseconds. :func:`load_frames` then decodes (all frames of an
animation, or the first frame) into L/RGB/RGBA sRGB frames with the orientation applied.
:func:`load_reduced` uses JPEG DCT scaling (``draft``) when only a smaller image is needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pillow_heif
from PIL import Image as PILImage

from jobs.contract.errors import DarkroomError, MediaFailed, TooLarge
from jobs.contract.sizes import human_size
from worker.imaging.budget import check_budget, image_bytes
from worker.imaging.color import has_alpha, to_working
from worker.imaging.orient import apply_orientation, oriented_size, read_loaded_orientation, read_orientation
from worker.imaging.sniff import PIL_FORMATS, sniff
from worker.imaging.types import Limits, ProbeResult

pillow_heif.register_heif_opener()

ANIMATABLE_INPUTS = frozenset({"gif", "webp", "png", "avif"})
DEFAULT_FRAME_MS = 100


@dataclass(slots=True)
class Source:
    """An opened (not decoded) input and what its header says."""

    data: bytes
    image: PILImage.Image
    info: ProbeResult
    icc: bytes | None


@dataclass(slots=True)
class Frames:
    """Decoded working frames (L/RGB/RGBA, sRGB, oriented, no metadata)."""

    images: list[PILImage.Image]
    durations: list[int] = field(default_factory=list)
    loop: int | None = 0

    @property
    def first(self) -> PILImage.Image:
        return self.images[0]

    def take(self) -> list[PILImage.Image]:
        """The frames, handed over: this object keeps no reference that would keep them alive."""
        images, self.images = self.images, []
        return images

    @property
    def animated(self) -> bool:
        return len(self.images) > 1


def _as_media_failed(exc: BaseException, what: str) -> DarkroomError:
    if isinstance(exc, DarkroomError):
        return exc
    if isinstance(exc, PILImage.DecompressionBombError):
        return TooLarge(f"The image has too many pixels ({exc}).")
    if isinstance(exc, MemoryError):
        return TooLarge("The image is too large to decode.")
    return MediaFailed(f"The image could not be {what}: {exc.__class__.__name__}: {exc}".rstrip(": "))


def _open_pil(data: bytes, fmt: str) -> PILImage.Image:
    try:
        im = PILImage.open(io.BytesIO(data), formats=PIL_FORMATS[fmt])
    except Exception as exc:
        raise _as_media_failed(exc, "read") from exc
    # The whole input to the decoder in one call, not in 64 KiB pieces (PNG is still fed chunk by
    # chunk): a 12 MP JPEG was 57 calls, each copying its piece and releasing and retaking the
    # GIL (in a worker, where other threads wait for the GIL, a futex handoff each way).
    im.decodermaxblock = max(im.decodermaxblock, len(data))
    return im


def _frame_count(im: PILImage.Image, fmt: str) -> int:
    if fmt not in ANIMATABLE_INPUTS:
        return 1
    try:
        return max(1, int(getattr(im, "n_frames", 1)))
    except Exception as exc:
        raise _as_media_failed(exc, "read") from exc


def open_source(data: bytes, limits: Limits) -> Source:
    """Sniff, open the header and enforce ``limits`` (bytes, pixels, frames). No pixel decode."""
    if len(data) > limits.max_input_bytes:
        raise TooLarge(f"The file is larger than the {human_size(limits.max_input_bytes)} limit.")
    fmt = sniff(data)
    im = _open_pil(data, fmt)
    width, height = im.size
    if width < 1 or height < 1:
        raise MediaFailed("The image has no pixels.")
    if width * height > limits.max_pixels:
        raise TooLarge(f"The image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels.")
    frames = _frame_count(im, fmt)
    if frames > limits.max_frames:
        raise TooLarge(f"The animation has {frames} frames; the limit is {limits.max_frames}.")
    orientation = read_orientation(im, fmt)
    shown_w, shown_h = oriented_size(width, height, orientation)
    icc = im.info.get("icc_profile")
    info = ProbeResult(
        format=fmt,
        width=shown_w,
        height=shown_h,
        frames=frames,
        orientation=orientation,
        has_alpha=has_alpha(im),
        mode=im.mode,
    )
    return Source(data=data, image=im, info=info, icc=icc if isinstance(icc, bytes) and icc else None)


def _finish(im: PILImage.Image, src: Source, orientation: int) -> PILImage.Image:
    return apply_orientation(to_working(im, src.icc), orientation)


def load_frames(src: Source, limits: Limits, *, animated: bool) -> Frames:
    """Decode the first frame, or every frame when ``animated`` (bounded by ``limits.max_pixels``
    and, with the working copies made of them, by ``limits.max_memory``)."""
    im = src.image
    count = src.info.frames if animated else 1
    if count > 1 and src.info.width * src.info.height * count > limits.max_pixels:
        raise TooLarge(
            f"The animation has {count} frames of {src.info.width}x{src.info.height}: more than "
            f"{limits.max_pixels} pixels in total."
        )
    size = (src.info.width, src.info.height)
    # the decoder's own frame, plus every working frame (a conversion per frame at most)
    planned = image_bytes(size, src.info.mode) + count * image_bytes(size)
    check_budget(limits.max_memory, 0, planned, f"Decoding {count} frame(s) of {size[0]}x{size[1]}")
    try:
        im.load()
        orientation = read_loaded_orientation(im, src.info.format)
        if count == 1:
            return Frames([_finish(im, src, orientation)], [int(im.info.get("duration") or 0)], 0)
        loop = im.info.get("loop")
        images: list[PILImage.Image] = []
        durations: list[int] = []
        for index in range(count):
            im.seek(index)
            frame = im.convert("RGBA")  # decodes it: WebP sets the frame's duration only then
            durations.append(int(im.info.get("duration") or DEFAULT_FRAME_MS))
            images.append(_finish(frame, src, orientation))
        im.seek(0)
    except DarkroomError:
        raise
    except Exception as exc:
        raise _as_media_failed(exc, "decoded") from exc
    return Frames(images, durations, loop if isinstance(loop, int) else None)


def can_reduce(src: Source, box: tuple[int, int]) -> bool:
    """Whether JPEG shrink-on-load can decode at ≤ 1/2 scale and still cover ``box``."""
    if src.info.format != "jpeg":
        return False
    return min(src.info.width / max(box[0], 1), src.info.height / max(box[1], 1)) >= 2


def load_reduced(src: Source, box: tuple[int, int]) -> PILImage.Image | None:
    """Decode a JPEG at the smallest DCT scale (1/2, 1/4, 1/8) still covering ``box``.

    ``box`` is in displayed (oriented) pixels. Returns None when shrink-on-load cannot help
    (not a JPEG, or the box needs more than half the resolution); use :func:`load_frames`.
    """
    if not can_reduce(src, box):
        return None
    try:
        im = _open_pil(src.data, "jpeg")
        stored_box = oriented_size(box[0], box[1], src.info.orientation)
        im.draft(None, stored_box)
        im.load()
        return _finish(im, src, src.info.orientation)
    except DarkroomError:
        raise
    except Exception as exc:
        raise _as_media_failed(exc, "decoded") from exc


def decode(data: bytes, limits: Limits, *, animated: bool = False) -> tuple[Source, Frames]:
    """Open and fully decode ``data`` (all frames when ``animated`` and the input is animated)."""
    src = open_source(data, limits)
    return src, load_frames(src, limits, animated=animated and src.info.animated)
