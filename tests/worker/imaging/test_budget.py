"""The job's pixel-memory budget (``Limits.max_memory``): every frame, every step, before it allocates."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image as PILImage

from jobs.contract.errors import TooLarge
from jobs.contract.operations import validate_operations
from tests.support.imaging import animated_gif, encode
from worker.imaging import Limits, process_transform, process_upload, render
from worker.imaging import operations as ops_module
from worker.imaging.operations import STEPS, Step, apply_operations

TEN_FRAMES = [(i * 20, 0, 0) for i in range(10)]
# The review's repro: a 10-frame 16x16 GIF resized to 7000x7000 (2 GB of pixels), then an op
# that fails; it peaked at 1.9 GB in one worker process.
HOSTILE = [
    {"op": "resize", "width": 7000, "height": 7000, "fit": "fill", "enlarge": True},
    {"op": "crop", "x": 9999, "y": 0, "width": 5, "height": 5},
]


@pytest.fixture
def allocations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Sizes of every image ``PIL.Image.new`` is asked for, refusing (not allocating) big ones."""
    sizes: list[tuple[int, int]] = []
    real_new = PILImage.new

    def recording_new(mode: str, size: tuple[int, int], *args: Any, **kwargs: Any) -> PILImage.Image:
        sizes.append((size[0], size[1]))
        if size[0] * size[1] > 4_000_000:
            raise AssertionError(f"a {size[0]}x{size[1]} layer was allocated")
        return real_new(mode, size, *args, **kwargs)

    monkeypatch.setattr(PILImage, "new", recording_new)
    return sizes


def test_the_reviews_animation_repro_is_too_large_before_any_frame_is_resized() -> None:
    gif = animated_gif(TEN_FRAMES, size=(16, 16))
    with pytest.raises(TooLarge) as caught:
        process_transform(gif, validate_operations(HOSTILE), Limits(), threads=1)
    assert caught.value.code == "too_large" and not caught.value.transient
    assert caught.value.field == "operations[0].width"
    assert "10 frame(s)" in caught.value.message


def test_the_budget_is_frames_times_size_not_one_frame() -> None:
    limits = Limits(max_memory=2 * 1024 * 1024)  # 2 MiB: one 500x500 frame (1 MB), not ten
    op = [{"op": "resize", "width": 500, "height": 500, "fit": "fill", "enlarge": True}]
    one = render(encode(PILImage.new("RGB", (16, 16), (200, 0, 0)), "PNG"), validate_operations(op), limits)
    assert (one.width, one.height) == (500, 500)
    with pytest.raises(TooLarge) as caught:
        render(animated_gif(TEN_FRAMES, size=(16, 16)), validate_operations(op), limits)  # a render URL
    assert caught.value.field == "operations[0].width"


def test_each_step_counts_the_frames_it_holds() -> None:
    """Three frames of 100x100 (120 kB held): a crop to 1x1 fits, a same-size flip does not."""
    frames = [PILImage.new("RGB", (100, 100), (i, 0, 0)) for i in range(3)]
    limits = Limits(max_memory=200_000)
    small = apply_operations(frames, validate_operations([{"op": "resize", "width": 1}]), limits)
    assert [im.size for im in small] == [(1, 1)] * 3
    with pytest.raises(TooLarge) as caught:
        apply_operations(frames, validate_operations([{"op": "flip"}]), limits)
    assert caught.value.field == "operations[0].op"


@pytest.mark.parametrize("name", sorted(name for name, step in STEPS.items() if not step.sized))
def test_every_same_size_operation_is_checked_before_its_handler_runs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    params: dict[str, dict[str, Any]] = {
        "crop": {"width": 10, "height": 10},
        "round_corners": {"radius": 5},
        "duotone": {"dark": "black", "light": "white"},
        "tint": {"color": "red"},
        "watermark": {"text": "W"},
    }
    operations = validate_operations([{"op": name, **params.get(name, {})}])

    def must_not_run(im: PILImage.Image, op: Any, ctx: Any) -> PILImage.Image:
        raise AssertionError(f"{name} ran past the budget")

    monkeypatch.setitem(ops_module.STEPS, name, Step(must_not_run, STEPS[name].scratch))
    frames = [PILImage.new("RGB", (100, 100))] * 2
    with pytest.raises(TooLarge):
        apply_operations(frames, operations, Limits(max_memory=2 * 40_000 + 2 * 40_000 - 1))


@pytest.mark.parametrize(
    ("op", "field"),
    [
        ({"op": "pad", "top": 4000, "bottom": 4000, "left": 4000, "right": 4000}, "operations[0].top"),
        ({"op": "rotate", "angle": 45}, "operations[0].angle"),
        ({"op": "rotate", "angle": 90}, "operations[0].angle"),
        (
            {"op": "resize", "width": 3000, "height": 3000, "fit": "contain", "enlarge": True},
            "operations[0].width",
        ),
    ],
)
def test_operations_that_size_their_output_are_refused_before_allocating(
    op: dict[str, Any], field: str, allocations: list[tuple[int, int]]
) -> None:
    frames = [PILImage.new("RGB", (1500, 1500))] * 2  # 18 MB held
    with pytest.raises(TooLarge) as caught:
        apply_operations(frames, validate_operations([op]), Limits(max_memory=24 * 1024 * 1024))
    assert caught.value.field == field
    assert all(w * h <= 1500 * 1500 for w, h in allocations)


def test_pixelate_weighs_its_enlarged_block_image() -> None:
    frames = [PILImage.new("RGB", (16, 16))]  # blocks of 1024 px: a 1024x1024 image, then cropped
    with pytest.raises(TooLarge) as caught:
        apply_operations(
            frames, validate_operations([{"op": "pixelate", "size": 1024}]), Limits(max_memory=2**20)
        )
    assert caught.value.field == "operations[0].size"


def test_decoding_an_animation_is_weighed_with_its_working_copies() -> None:
    gif = animated_gif(TEN_FRAMES, size=(200, 200))  # 10 x 160 kB working frames
    with pytest.raises(TooLarge):
        process_upload(gif, Limits(max_memory=1024 * 1024), threads=1)
    assert process_upload(gif, Limits(max_memory=4 * 1024 * 1024), threads=1).master.frames == 10


# --- intermediate layers: the watermark ----------------------------------------------------------


def test_a_huge_text_watermark_is_drawn_at_the_size_it_is_shown(allocations: list[tuple[int, int]]) -> None:
    """The review's repro: 200 "W" at 2000 px on 64x64 allocated a ~2 GB RGBA layer first."""
    op = [{"op": "watermark", "text": "W" * 200, "font_size": 2000, "opacity": 1, "color": "white"}]
    out = render(encode(PILImage.new("RGB", (64, 64), (0, 0, 128)), "PNG"), validate_operations(op), Limits())
    assert (out.width, out.height) == (64, 64)
    assert max(w * h for w, h in allocations) <= 64 * 64


def test_a_watermark_asset_is_weighed_before_it_is_decoded() -> None:
    image_id = "image_" + "a" * 24
    mark = encode(PILImage.new("RGB", (2000, 2000), (255, 0, 0)), "PNG")  # 16 MB decoded
    op = [{"op": "watermark", "image_id": image_id, "scale": 0.5}]
    base = encode(PILImage.new("RGB", (100, 100)), "PNG")
    with pytest.raises(TooLarge) as caught:
        render(base, validate_operations(op), Limits(max_memory=8 * 1024 * 1024), assets={image_id: mark})
    assert caught.value.field == "operations[0].image_id"
