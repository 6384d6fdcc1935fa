"""Plain data that goes in and out of the imaging core. No I/O, no settings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits: the input's, checked before any full decode, and the job's pixel memory.

    ``max_memory`` bounds the bytes of pixels a job holds at once (all frames, every step's
    output and intermediate layers), checked before each step allocates (``budget.py``).
    """

    max_pixels: int = 50_000_000
    max_frames: int = 100
    max_input_bytes: int = 20 * 1024 * 1024
    max_memory: int = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Encoded:
    """One encoded output image."""

    data: bytes
    format: str  # one of jobs.contract.constants.OUTPUT_FORMATS
    width: int
    height: int
    frames: int = 1


@dataclass(frozen=True, slots=True)
class Rendition:
    """Everything an upload (or a transform) stores for one image."""

    master: Encoded
    sizes: dict[str, Encoded] = field(default_factory=dict)  # keys of jobs.contract.constants.SIZES
    placeholder: str | None = None  # BlurHash
    transformable: bool = True
    source_format: str | None = None  # detected input format: jpeg, png, tiff, heif, ...
    # why the sizes of an animated master are single frames (over the memory budget); else None
    still_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a cheap header read tells about an input (no pixel decode).

    ``width``/``height`` are as displayed, i.e. after the EXIF Orientation is applied.
    """

    format: str  # detected input format: jpeg, png, gif, webp, tiff, bmp, heif, avif
    width: int
    height: int
    frames: int = 1
    orientation: int = 1  # EXIF Orientation still to apply (1 = none)
    has_alpha: bool = False
    mode: str = "RGB"  # Pillow mode of the stored pixels

    @property
    def animated(self) -> bool:
        return self.frames > 1
