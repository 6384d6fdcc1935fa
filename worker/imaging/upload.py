"""``process_upload``: validate → decode → orient → sRGB → strip → master + sizes + placeholder.

Two paths, both on a 2-thread pool (Pillow releases the GIL while decoding, resampling,
transposing and encoding WebP/AVIF; its JPEG/PNG/GIF encoders keep it):

* **web-safe JPEG in, JPEG out** (8-bit Huffman, sRGB or untagged, Orientation 1, quality
  ≤ 92): the master is the original's entropy-coded data with every metadata segment
  dropped (:mod:`jpeg_lossless`: no decode, no generation loss). The sizes come from a
  DCT shrink-on-load decode (``draft``: 1/2 .. 1/8 scale), resampled large → medium → small,
  each resample split in two strips across both threads.
* **other JPEG in, JPEG/PNG/GIF out** (e.g. EXIF-rotated): those encoders hold the GIL for
  their whole run, so the sizes' GIL-free work (their own shrink-on-load decode, resampling)
  runs while the pool decodes and rotates the master, not after it.
* **everything else**: one full decode; the master encodes on the pool while this thread
  resamples the sizes (box-reduce + Lanczos, strips on the pool's spare worker) and encodes
  them — after the master when the encoder holds the GIL (two would convoy), concurrently
  otherwise. For WebP/AVIF masters (GIL released) one shared decode measured faster than
  two concurrent ones, which convoy on the GIL between their chunks.

Animated GIF/WebP keep their animation in the master (GIF/WebP output) and in the sizes
(:mod:`animated_sizes`: every frame resampled once per size, unless their frames would pass
the job's memory budget: then the sizes are the first frame and say why); the placeholder
comes from the first frame. A size whose box does not shrink the image reuses the master's bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

from PIL import Image as PILImage

from jobs.contract.constants import OUTPUT_FORMATS, SIZES
from worker.imaging.animated_sizes import (
    Animation,
    derive_animated_sizes,
    gif_frames,
    gif_palette,
    plan_sizes,
)
from worker.imaging.blurhash import placeholder
from worker.imaging.budget import check_budget, held_bytes
from worker.imaging.decode import Source, can_reduce, load_frames, load_reduced, open_source
from worker.imaging.edge import imaging_edge
from worker.imaging.encode import (
    ANIMATED_OUTPUTS,
    DEFAULT_OPTIONS,
    GIL_BOUND_OUTPUTS,
    EncodeOptions,
    check_output_format,
    default_output_format,
    encode,
    encoding_bytes,
)
from worker.imaging.jpeg_lossless import lossless_master
from worker.imaging.pool import job_pool
from worker.imaging.sizes import LARGEST_FIRST, derive_sizes, size_targets
from worker.imaging.types import Encoded, Limits, Rendition

SizesResult = tuple[dict[str, Encoded], str]


def encode_sizes(
    source: PILImage.Image,
    master_size: tuple[int, int],
    fmt: str,
    options: EncodeOptions = DEFAULT_OPTIONS,
    *,
    master: Callable[[], Encoded] | None = None,
    pool: Executor | None = None,
    animation: Animation | None = None,
) -> SizesResult:
    """Encode every size (from ``source``, the master or a reduced copy) and the placeholder.

    ``master`` waits for (and returns) the master being encoded on the other lane: resampling
    overlaps with it, but GIL-bound encoders run only after it (they would convoy). A size
    whose box does not shrink the image *is* the master: its bytes are reused. With an
    ``animation`` (the master's frames; ``master`` required) every size animates like it.
    """
    if animation is not None and animation.animated:
        assert master is not None
        return _encode_animated_sizes(animation, master_size, fmt, options, master=master, pool=pool)
    images = derive_sizes(source, master_size, pool)
    blurhash = placeholder(images[LARGEST_FIRST[-1]])
    if master is not None and fmt in GIL_BOUND_OUTPUTS:
        master()  # wait: two GIL-holding encoders on two threads convoy
    same = [name for name in LARGEST_FIRST if master is not None and images[name].size == master_size]
    encoded = {name: encode(images[name], fmt, options) for name in LARGEST_FIRST if name not in same}
    if same:
        assert master is not None
        full = master()
        for name in same:
            encoded[name] = full  # (an animated master's too: it costs nothing more)
    return {name: encoded[name] for name in SIZES}, blurhash


def _encode_animated_sizes(
    animation: Animation,
    master_size: tuple[int, int],
    fmt: str,
    options: EncodeOptions,
    *,
    master: Callable[[], Encoded],
    pool: Executor | None,
) -> SizesResult:
    frames = derive_animated_sizes(animation.images, master_size, pool)
    smallest = frames.get(LARGEST_FIRST[-1], [animation.images[0]])
    blurhash = placeholder(smallest[0])
    if fmt in GIL_BOUND_OUTPUTS:
        master()  # wait: two GIL-holding encoders on two threads convoy
    palette = gif_palette(animation.images) if fmt == "gif" and frames else None
    encoded: dict[str, Encoded] = {}
    for name in list(frames):  # largest first; each size's frames are dropped once encoded
        images = frames.pop(name)
        if fmt == "gif":
            images = gif_frames(images, palette)
        encoded[name] = encode(images, fmt, options, durations=animation.durations, loop=animation.loop)
        del images
    full = master()
    return {name: encoded.get(name, full) for name in SIZES}, blurhash


def _decode_and_encode(src: Source, limits: Limits, fmt: str) -> Encoded:
    return encode(load_frames(src, limits, animated=False).first, fmt)


def _jpeg_upload(src: Source, limits: Limits, fmt: str, pool: Executor) -> Rendition | None:
    """JPEG input paths that beat one shared decode; None when the shared decode is best."""
    master_size = (src.info.width, src.info.height)
    box = size_targets(*master_size)[LARGEST_FIRST[0]]
    reducible = can_reduce(src, box)
    lossless = lossless_master(src) if fmt == "jpeg" else None
    if lossless is not None:  # no master work at all: both threads resample the sizes
        reduced = load_reduced(src, box) if reducible else None
        if reduced is None:
            reduced = load_frames(src, limits, animated=False).first
        sizes, blurhash = encode_sizes(reduced, master_size, fmt, master=lambda: lossless, pool=pool)
        return Rendition(master=lossless, sizes=sizes, placeholder=blurhash, source_format=src.info.format)
    if fmt not in GIL_BOUND_OUTPUTS or not reducible:
        return None
    # The master's encoder will hold the GIL for its whole run (e.g. an EXIF-rotated photo):
    # do the sizes' GIL-free work (shrink-on-load decode, resampling) while the pool decodes
    # and rotates the master, instead of after it. Measured 12 MP: 0.34-0.36 s vs 0.40-0.45 s.
    future = pool.submit(_decode_and_encode, src, limits, fmt)
    reduced = load_reduced(src, box)
    assert reduced is not None
    sizes, blurhash = encode_sizes(reduced, master_size, fmt, master=future.result, pool=pool)
    return Rendition(master=future.result(), sizes=sizes, placeholder=blurhash, source_format=src.info.format)


@imaging_edge
def process_upload(
    data: bytes, limits: Limits, *, output_format: str | None = None, threads: int = 2
) -> Rendition:
    """The upload job's imaging: one master (full resolution, oriented, sRGB, no metadata),
    the three ``SIZES`` (fit inside, never enlarged, master's format) and a BlurHash.

    Raises ``TooLarge``, ``UnsupportedMediaType``, ``MediaFailed`` (bad input) or
    ``InvalidRequest`` (unknown ``output_format``).
    """
    override = check_output_format(output_format)
    src = open_source(data, limits)
    fmt = override or default_output_format(src.info.format, src.info.has_alpha)
    with job_pool(threads) as pool:
        if src.info.format == "jpeg":
            rendition = _jpeg_upload(src, limits, fmt, pool)
            if rendition is not None:
                return rendition
        frames = load_frames(src, limits, animated=src.info.animated and fmt in ANIMATED_OUTPUTS)
        first = frames.first
        if override is None and src.info.format not in OUTPUT_FORMATS:  # tiff, bmp: png only with alpha
            fmt = default_output_format(src.info.format, first.mode == "RGBA")  # (opaque alpha is dropped)
        animation = Animation(frames.images, frames.durations, frames.loop)
        held, planned = held_bytes(frames.images), encoding_bytes(frames.images, fmt)
        plan = plan_sizes(animation, fmt, limit=limits.max_memory, held=held, planned=planned)
        what = f"Encoding {len(frames.images)} frame(s) as {fmt}"
        check_budget(limits.max_memory, held, planned + plan.bytes, what)
        master_future = pool.submit(encode, frames.images, fmt, durations=frames.durations, loop=frames.loop)
        sizes, blurhash = encode_sizes(
            first,
            first.size,
            fmt,
            master=master_future.result,
            pool=pool,
            animation=animation if plan.animated else None,
        )
        master = master_future.result()
    return Rendition(
        master=master,
        sizes=sizes,
        placeholder=blurhash,
        source_format=src.info.format,
        still_reason=plan.still_reason,
    )
