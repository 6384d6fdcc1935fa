"""process_transform / render: output format, sizes from the result, animation, limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from jobs.contract.errors import InvalidRequest, MediaFailed
from jobs.contract.operations import validate_operations
from tests.support.imaging import (
    BLUE,
    GREEN,
    RED,
    animated_gif,
    close,
    encode,
    frames,
    halves,
    metadata_found,
    open_bytes,
    rgb_at,
)
from worker.imaging import Limits, process_transform, process_upload, render


def test_transform_of_a_master_derives_sizes_from_the_result(limits: Limits) -> None:
    master = process_upload(encode(halves(2000, 1500), "JPEG"), limits).master
    ops = validate_operations([{"op": "flip"}, {"op": "resize", "width": 1000}])
    rendition = process_transform(master.data, ops, limits)
    assert rendition.master.format == "jpeg"  # the parent's format
    assert (rendition.master.width, rendition.master.height) == (1000, 750)
    sizes = {name: (e.width, e.height) for name, e in rendition.sizes.items()}
    assert sizes == {"small": (426, 320), "medium": (853, 640), "large": (1000, 750)}
    assert rendition.sizes["large"].data == rendition.master.data  # the same pixels, encoded once
    small = rendition.sizes["small"]
    assert close(rgb_at(small.data, (10, 160)), (0, 0, 255, 255), 30)  # flipped: blue on the left
    assert close(rgb_at(small.data, (415, 160)), (255, 0, 0, 255), 30)
    assert rendition.placeholder and len(rendition.placeholder) == 28
    assert rendition.source_format == "jpeg"
    for encoded in [rendition.master, *rendition.sizes.values()]:
        assert metadata_found(encoded.data) == []


def test_convert_sets_format_and_options_for_master_and_sizes(limits: Limits) -> None:
    data = encode(halves(1000, 500), "PNG")
    rendition = process_transform(
        data, validate_operations([{"op": "convert", "format": "webp", "quality": 50}]), limits
    )
    assert {e.format for e in [rendition.master, *rendition.sizes.values()]} == {"webp"}
    low = render(data, validate_operations([{"op": "convert", "format": "jpeg", "quality": 20}]), limits)
    high = render(data, validate_operations([{"op": "convert", "format": "jpeg", "quality": 95}]), limits)
    assert len(low.data) < len(high.data)


def test_last_convert_wins(limits: Limits) -> None:
    ops = validate_operations([{"op": "convert", "format": "webp"}, {"op": "convert", "format": "gif"}])
    assert render(encode(halves(20, 10), "PNG"), ops, limits).format == "gif"


def test_render_accepts_raw_dicts(limits: Limits) -> None:
    encoded = render(encode(halves(40, 20), "PNG"), [{"op": "resize", "width": 20}], limits)  # type: ignore[list-item]
    assert (encoded.width, encoded.height) == (20, 10)


def test_animated_parent_stays_animated(limits: Limits) -> None:
    data = animated_gif([RED, GREEN, BLUE], size=(80, 40))
    ops = validate_operations(
        [{"op": "crop", "width": 40, "height": 40, "gravity": "smart"}, {"op": "rotate", "angle": 90}]
    )
    rendition = process_transform(data, ops, limits)
    assert rendition.master.format == "gif" and rendition.master.frames == 3
    image = PILImage.open(io.BytesIO(rendition.master.data))
    assert image.size == (40, 40)
    sizes = []
    for index in range(3):
        image.seek(index)
        sizes.append(image.size)
    assert sizes == [(40, 40)] * 3  # one crop box for every frame
    # the sizes animate too (issue 18): a 40x40 result's sizes are the master's bytes
    assert frames(rendition.sizes["small"].data) == 3 and rendition.sizes["small"].frames == 3
    as_png = render(data, validate_operations([{"op": "convert", "format": "png"}]), limits)
    assert as_png.frames == 1


def test_undecodable_parent(limits: Limits) -> None:
    with pytest.raises(MediaFailed):
        render(b"plain text, not an image" * 4, validate_operations([{"op": "grayscale"}]), limits)


def test_bad_operations_name_the_field(limits: Limits) -> None:
    with pytest.raises(InvalidRequest) as caught:
        render(encode(halves(), "PNG"), [{"op": "pixelate", "size": 1}], limits)  # type: ignore[list-item]
    assert caught.value.field == "operations[0].size"


def test_rotate_then_jpeg_flattens_transparent_corners_on_white(limits: Limits) -> None:
    encoded = render(
        encode(halves(100, 100), "JPEG"), validate_operations([{"op": "rotate", "angle": 45}]), limits
    )
    assert encoded.format == "jpeg"
    assert close(rgb_at(encoded.data, (2, 2)), (255, 255, 255, 255), 8)
    assert open_bytes(encoded.data).mode == "RGB"
