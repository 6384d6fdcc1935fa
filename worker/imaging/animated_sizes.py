"""Animated responsive sizes: each size of an animation is the same animation, smaller.

Every frame is resampled once per size, each smaller size from the previous one (as
:func:`sizes.derive_sizes` does for a still), and each size is encoded like the master:
same format, frame count, per-frame durations and loop count (GIF disposal 2, as the master).

GIF sizes are quantized here, not by the GIF writer: Lanczos blends a palette image's colours
into thousands, and Pillow's writer then runs a median cut per frame with dithering (20
frames of 426x240: 4.3 s, 896 kB). One fast-octree palette for every frame of every size,
taken from a nearest-neighbour mosaic of the master's frames (so it is the master's own
palette when that has ≤ 256 colours, and later frames' colours are in it), mapped without
dithering, keeps unchanged areas identical between frames and compresses best: 0.09 s,
392 kB (a palette per size from its own frames: 520 kB). Frames with transparency get a
palette each (Pillow maps only RGB images to a given palette).

A size whose box does not shrink the animation *is* the master and reuses its bytes.
The frames of every shrinking size are held until their size is encoded, so before any
is allocated :func:`plan_sizes` weighs them (and the largest size's encoder copies)
against the job's memory budget; over it, the sizes are single frames (the first) and
:data:`STILL_OVER_BUDGET` says why on each of them (``sizes.*.still_reason``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final

from PIL import Image as PILImage

from worker.imaging.budget import WORKING_BYTES, MiB
from worker.imaging.encode import ANIMATED_OUTPUTS, frames_encoding_bytes
from worker.imaging.sizes import resample, size_targets, sizes_bytes

FAST: Final = PILImage.Quantize.FASTOCTREE
NO_DITHER: Final = PILImage.Dither.NONE
NEAREST: Final = PILImage.Resampling.NEAREST
STILL_OVER_BUDGET: Final = (
    "single frame: animating this size would hold {need:.0f} MB of pixels at once; "
    "the job's memory budget (IMAGING_MEMORY_MB) is {limit:.0f} MB"
)


@dataclass(frozen=True, slots=True)
class Animation:
    """The master's frames and timing, as the master is encoded."""

    images: Sequence[PILImage.Image]
    durations: Sequence[int]
    loop: int | None

    @property
    def animated(self) -> bool:
        return len(self.images) > 1


def shrinking_sizes(master_size: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Targets (largest first) of the sizes that are smaller than the master."""
    return {name: size for name, size in size_targets(*master_size).items() if size != master_size}


def animated_sizes_bytes(frames: int, master_size: tuple[int, int], fmt: str) -> int:
    """Pixel memory animated sizes hold at most: every frame of every shrinking size (each
    size's frames live until it is encoded), one frame's resampling strips, the encoder's
    copies of the largest size and, for GIF, what its palette is made from."""
    targets = list(shrinking_sizes(master_size).values())
    if not targets:
        return 0
    largest = targets[0][0] * targets[0][1]
    frames_bytes = WORKING_BYTES * (frames * sum(w * h for w, h in targets) + largest)
    # GIF: the palette's mosaic of the master's frames at 1/4 scale, and its thumbnails
    mosaic = 2 * WORKING_BYTES * frames * (master_size[0] // 4 + 1) * (master_size[1] // 4 + 1)
    return frames_bytes + frames_encoding_bytes(targets[0], frames, fmt) + (mosaic if fmt == "gif" else 0)


@dataclass(frozen=True, slots=True)
class SizesPlan:
    """How the sizes are made: animated or not, why not (when they could be), and the pixel
    bytes deriving and encoding them will allocate (for the budget check)."""

    animated: bool
    still_reason: str | None
    bytes: int


def plan_sizes(animation: Animation, fmt: str, *, limit: int, held: int, planned: int) -> SizesPlan:
    """Animated sizes when the master animates and their frames fit the budget, else stills.

    ``held``: bytes of pixels the job holds; ``planned``: what the master's encoding adds.
    """
    first = animation.images[0]
    still = sizes_bytes(*first.size)
    if not animation.animated or fmt not in ANIMATED_OUTPUTS:
        return SizesPlan(animated=False, still_reason=None, bytes=still)
    need = held + planned + animated_sizes_bytes(len(animation.images), first.size, fmt)
    if need <= limit:
        return SizesPlan(animated=True, still_reason=None, bytes=need - held - planned)
    reason = STILL_OVER_BUDGET.format(need=need / MiB, limit=limit / MiB)
    return SizesPlan(animated=False, still_reason=reason, bytes=still)


def derive_animated_sizes(
    images: Sequence[PILImage.Image], master_size: tuple[int, int], pool: Executor | None = None
) -> dict[str, list[PILImage.Image]]:
    """Every shrinking size's frames, largest first; each size resampled from the previous one."""
    out: dict[str, list[PILImage.Image]] = {}
    current = list(images)
    for name, target in shrinking_sizes(master_size).items():
        current = [resample(frame, target, pool) for frame in current]
        out[name] = current
    return out


def gif_palette(frames: Sequence[PILImage.Image]) -> PILImage.Image | None:
    """One palette for every size of an animation, from the master's frames (see above);
    None for frames with transparency (each gets its own palette)."""
    if any(frame.mode not in ("RGB", "L") for frame in frames):
        return None
    thumbs = [
        frame.resize((max(1, frame.width // 4), max(1, frame.height // 4)), NEAREST) for frame in frames
    ]
    mosaic = PILImage.new("RGB", (thumbs[0].width, sum(thumb.height for thumb in thumbs)))
    top = 0
    for thumb in thumbs:
        mosaic.paste(thumb.convert("RGB"), (0, top))
        top += thumb.height
    return mosaic.quantize(256, method=FAST, dither=NO_DITHER)


def gif_frames(frames: Sequence[PILImage.Image], palette: PILImage.Image | None) -> list[PILImage.Image]:
    """Palette frames for the GIF writer: ``palette`` (or one per frame), no dithering."""
    if palette is None or any(frame.mode not in ("RGB", "L") for frame in frames):
        return [frame.quantize(256, method=FAST, dither=NO_DITHER) for frame in frames]
    return [frame.convert("RGB").quantize(palette=palette, dither=NO_DITHER) for frame in frames]
