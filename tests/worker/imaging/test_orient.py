"""EXIF Orientation is applied (all eight values) and never survives into outputs."""

from __future__ import annotations

import pytest

from tests.support.imaging import close, encode, exif_bytes, metadata_found, quadrant, rgb_at
from worker.imaging import Limits, process_upload

RED_PIXEL = (255, 0, 0, 255)

# where the stored top-left (red) quadrant is displayed, per orientation
RED_CORNER = {
    1: "top-left",
    2: "top-right",
    3: "bottom-right",
    4: "bottom-left",
    5: "top-left",
    6: "top-right",
    7: "bottom-right",
    8: "bottom-left",
}


def _corner_xy(corner: str, width: int, height: int) -> tuple[int, int]:
    x = width // 8 if corner.endswith("left") else width - 1 - width // 8
    y = height // 8 if corner.startswith("top") else height - 1 - height // 8
    return x, y


def test_orientation_6_rotates_a_3000x2000_photo(limits: Limits) -> None:
    data = encode(quadrant(3000, 2000), "JPEG", quality=85, exif=exif_bytes(6))
    rendition = process_upload(data, limits)
    master = rendition.master
    assert (master.width, master.height) == (2000, 3000)
    assert close(rgb_at(master.data, (1900, 100)), RED_PIXEL, 30)  # stored top-left → top-right
    assert close(rgb_at(master.data, (100, 100)), (0, 0, 255, 255), 30)
    assert (rendition.sizes["large"].width, rendition.sizes["large"].height) == (720, 1080)
    for encoded in [master, *rendition.sizes.values()]:
        assert metadata_found(encoded.data) == []


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation(orientation: int, limits: Limits) -> None:
    data = encode(quadrant(60, 40), "JPEG", quality=95, exif=exif_bytes(orientation))
    rendition = process_upload(data, limits, output_format="png")
    width, height = (40, 60) if orientation >= 5 else (60, 40)
    assert (rendition.master.width, rendition.master.height) == (width, height)
    corner = RED_CORNER[orientation]
    assert close(rgb_at(rendition.master.data, _corner_xy(corner, width, height)), RED_PIXEL, 30)
    small = rendition.sizes["small"]
    assert close(rgb_at(small.data, _corner_xy(corner, small.width, small.height)), RED_PIXEL, 30)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "AVIF"])
def test_orientation_in_other_formats(fmt: str, limits: Limits) -> None:
    data = encode(quadrant(60, 40), fmt, exif=exif_bytes(6), **({"lossless": True} if fmt == "WEBP" else {}))
    rendition = process_upload(data, limits, output_format="png")
    assert (rendition.master.width, rendition.master.height) == (40, 60)
    assert close(rgb_at(rendition.master.data, _corner_xy("top-right", 40, 60)), RED_PIXEL, 40)
    assert metadata_found(rendition.master.data) == []
