"""``process_transform`` and ``render``: decode a master, apply operations, encode.

The output format is the last ``convert``'s, else the parent's. Animated parents stay
animated when the output format can animate (GIF/WebP): every frame goes through the
pipeline. ``process_transform`` also derives the three sizes (animated like the result, within
the memory budget: ``animated_sizes``) and the placeholder from the in-memory result (no
re-decode), encoding them while the master encodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image as PILImage

from jobs.contract.operations import Operation
from worker.imaging.animated_sizes import Animation, SizesPlan, plan_sizes
from worker.imaging.budget import check_budget, held_bytes
from worker.imaging.decode import load_frames, open_source
from worker.imaging.edge import imaging_edge
from worker.imaging.encode import (
    ANIMATED_OUTPUTS,
    EncodeOptions,
    default_output_format,
    encode,
    encoding_bytes,
)
from worker.imaging.operations import apply_operations, as_operations, output_settings
from worker.imaging.pool import job_pool
from worker.imaging.types import Encoded, Limits, Rendition
from worker.imaging.upload import encode_sizes


@dataclass(slots=True)
class _Result:
    images: list[PILImage.Image]
    durations: list[int]
    loop: int | None
    fmt: str
    options: EncodeOptions
    source_format: str
    sizes: SizesPlan | None


def _run(
    data: bytes,
    operations: Sequence[Operation | Mapping[str, Any]],
    limits: Limits,
    assets: Mapping[str, bytes] | None,
    *,
    sizes: bool,
) -> _Result:
    ops = as_operations(operations)
    override, options = output_settings(ops)
    src = open_source(data, limits)
    source_format = src.info.format
    fmt = override or default_output_format(source_format, src.info.has_alpha)
    frames = load_frames(src, limits, animated=src.info.animated and fmt in ANIMATED_OUTPUTS)
    del src  # its decoder frame: from here on only the pipeline holds pixels (the budget counts them)
    images = apply_operations(frames.take(), ops, limits, assets)
    held, planned = held_bytes(images), encoding_bytes(images, fmt)
    animation = Animation(images, frames.durations, frames.loop)
    plan = plan_sizes(animation, fmt, limit=limits.max_memory, held=held, planned=planned) if sizes else None
    what = f"Encoding {len(images)} frame(s) as {fmt}"
    check_budget(limits.max_memory, held, planned + (plan.bytes if plan else 0), what)
    return _Result(images, frames.durations, frames.loop, fmt, options, source_format, plan)


@imaging_edge
def render(
    data: bytes,
    operations: Sequence[Operation],
    limits: Limits,
    *,
    assets: Mapping[str, bytes] | None = None,
) -> Encoded:
    """The transformed image alone (on-demand render URLs, warmup)."""
    result = _run(data, operations, limits, assets, sizes=False)
    return encode(result.images, result.fmt, result.options, durations=result.durations, loop=result.loop)


@imaging_edge
def process_transform(
    data: bytes,
    operations: Sequence[Operation],
    limits: Limits,
    *,
    assets: Mapping[str, bytes] | None = None,
    threads: int = 2,
) -> Rendition:
    """A transform job's imaging: the new master + sizes + placeholder.

    Raises ``InvalidRequest`` (bad parameters found at render time, missing watermark
    asset; ``field`` names the operation), ``TooLarge`` (input or result over the limits),
    ``UnsupportedMediaType`` / ``MediaFailed`` (undecodable parent).
    """
    result = _run(data, operations, limits, assets, sizes=True)
    first = result.images[0]
    with job_pool(threads) as pool:
        master_future = pool.submit(
            encode, result.images, result.fmt, result.options, durations=result.durations, loop=result.loop
        )
        plan = result.sizes
        assert plan is not None
        animation = Animation(result.images, result.durations, result.loop) if plan.animated else None
        sizes, blurhash = encode_sizes(
            first, first.size, result.fmt, result.options, master=master_future.result, animation=animation
        )
        master = master_future.result()
    return Rendition(
        master=master,
        sizes=sizes,
        placeholder=blurhash,
        source_format=result.source_format,
        still_reason=plan.still_reason,
    )
