"""Sizes of an animated master animate too (issue 18), or say why not (over the memory budget)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from PIL import Image as PILImage

from jobs.contract.operations import validate_operations
from tests.support.imaging import encode
from worker.imaging import Limits, process_transform, process_upload
from worker.imaging import upload as upload_module
from worker.imaging.budget import MiB

COLOURS = [(220, 20, 20), (20, 200, 20), (20, 20, 220), (230, 230, 20), (200, 20, 200)]
DURATIONS = [40, 80, 120, 60, 200]


def animation(size: tuple[int, int], fmt: str = "GIF", *, count: int = 5, loop: int = 3) -> bytes:
    images = [PILImage.new("RGB", size, COLOURS[i % len(COLOURS)]) for i in range(count)]
    durations = [DURATIONS[i % len(DURATIONS)] for i in range(count)]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    return encode(
        images[0], fmt, save_all=True, append_images=images[1:], duration=durations, loop=loop, **extra
    )


def timeline(data: bytes) -> tuple[int, list[int], int | None, list[tuple[int, ...]]]:
    """(n_frames, per-frame durations, loop, centre pixel of each frame) as Pillow reads them."""
    image = PILImage.open(io.BytesIO(data))
    durations, pixels = [], []
    for index in range(image.n_frames):
        image.seek(index)
        image.load()  # WebP sets a frame's duration when it is decoded
        durations.append(int(image.info.get("duration", 0)))
        centre = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert isinstance(centre, tuple)
        pixels.append(centre)
    return image.n_frames, durations, image.info.get("loop"), pixels


def close(a: Sequence[int], b: Sequence[int], tolerance: int = 24) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_every_size_of_an_n_frame_animation_has_its_frames_durations_and_loop(
    limits: Limits, fmt: str
) -> None:
    data = animation((1600, 200), fmt)  # wider than every box: all three sizes shrink it
    rendition = process_upload(data, limits)
    assert rendition.master.frames == 5 and rendition.still_reason is None
    assert timeline(rendition.master.data)[:3] == (5, DURATIONS, 3)
    expected = {"small": (426, 53), "medium": (853, 107), "large": (1440, 180)}
    for name, size in rendition.sizes.items():
        assert size.format == fmt.lower() and (size.width, size.height) == expected[name]
        count, durations, loop, pixels = timeline(size.data)
        assert (count, size.frames) == (5, 5), name
        assert durations == DURATIONS, name
        assert loop == 3, name
        assert all(close(p, c) for p, c in zip(pixels, COLOURS, strict=True)), (name, pixels)
        assert PILImage.open(io.BytesIO(size.data)).size == expected[name]


def test_an_animated_transform_has_animated_sizes(limits: Limits) -> None:
    ops = validate_operations(
        [{"op": "resize", "width": 1500, "height": 500, "fit": "fill", "enlarge": True}]
    )
    rendition = process_transform(animation((300, 100)), ops, limits)
    assert rendition.master.frames == 5
    for size in rendition.sizes.values():
        assert size.frames == 5 and timeline(size.data)[:3] == (5, DURATIONS, 3)


# 20 frames of 600x200 held (9.6 MB) + the master's encoder (2.9 MB): single-frame sizes add
# 1.7 MB (14.2 MB, inside 16 MiB), animated ones 7.8 MB (20 MB: over it).
BIG = animation((600, 200), count=20)


def test_animated_sizes_over_the_memory_budget_are_single_frames_that_say_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sizes' frames were allocated although over the budget")

    monkeypatch.setattr(upload_module, "derive_animated_sizes", refuse)
    rendition = process_upload(BIG, Limits(max_memory=16 * MiB), threads=1)
    assert rendition.master.frames == 20 and timeline(rendition.master.data)[0] == 20
    small = rendition.sizes["small"]
    assert (small.width, small.height, small.frames) == (426, 142, 1)
    assert timeline(small.data)[0] == 1
    assert rendition.still_reason is not None
    assert "single frame" in rendition.still_reason and "IMAGING_MEMORY_MB" in rendition.still_reason
    assert "16 MB" in rendition.still_reason
    # medium and large do not shrink a 600x200 image: they are the master's (animated) bytes
    assert rendition.sizes["medium"].data == rendition.master.data


def test_the_same_animation_within_the_budget_animates() -> None:
    rendition = process_upload(BIG, Limits(max_memory=32 * MiB), threads=1)
    assert rendition.still_reason is None
    assert rendition.sizes["small"].frames == 20 and timeline(rendition.sizes["small"].data)[0] == 20


def test_a_still_image_has_single_frame_sizes_and_no_reason(limits: Limits) -> None:
    rendition = process_upload(encode(PILImage.new("RGB", (1600, 200), (9, 9, 9)), "PNG"), limits)
    assert rendition.still_reason is None
    assert all(size.frames == 1 and timeline(size.data)[0] == 1 for size in rendition.sizes.values())
