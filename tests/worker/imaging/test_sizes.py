"""fit_inside, size targets, and the derived chain."""

from __future__ import annotations

import pytest
from PIL import Image as PILImage
from PIL import ImageChops

from tests.support.images import band_extrema
from tests.support.imaging import halves
from worker.imaging.sizes import derive_sizes, fit_inside, resample, size_targets


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2000, 3000), {"small": (213, 320), "medium": (427, 640), "large": (720, 1080)}),
        ((4000, 3000), {"small": (426, 320), "medium": (853, 640), "large": (1440, 1080)}),
        ((1000, 500), {"small": (426, 213), "medium": (853, 427), "large": (1000, 500)}),
        ((300, 200), {"small": (300, 200), "medium": (300, 200), "large": (300, 200)}),
        ((10000, 10), {"small": (426, 1), "medium": (853, 1), "large": (1440, 1)}),
    ],
)
def test_size_targets_fit_inside_and_never_enlarge(
    size: tuple[int, int], expected: dict[str, tuple[int, int]]
) -> None:
    assert size_targets(*size) == expected


def test_fit_inside_enlarges_only_on_request() -> None:
    assert fit_inside(100, 50, 400, 400) == (100, 50)
    assert fit_inside(100, 50, 400, 400, enlarge=True) == (400, 200)


def test_derive_sizes_from_a_reduced_source_gives_exact_targets() -> None:
    reduced = halves(2000, 1500)  # e.g. a 1/2-scale decode of a 4000x3000 master
    images = derive_sizes(reduced, (4000, 3000))
    assert {name: im.size for name, im in images.items()} == size_targets(4000, 3000)
    left = images["small"].getpixel((10, 100))
    right = images["small"].getpixel((400, 100))
    assert left == (255, 0, 0) and right == (0, 0, 255)


def test_strip_parallel_resample_matches_a_single_resize() -> None:
    from concurrent.futures import ThreadPoolExecutor

    source = PILImage.effect_noise((1200, 900), 60).convert("RGB")
    for size in ((500, 375), (853, 640), (300, 225), (190, 140)):
        single = resample(source, size)
        with ThreadPoolExecutor(1) as pool:
            split = resample(source, size, pool)
        assert split.size == size
        difference = ImageChops.difference(split, single)
        assert all(high <= 2 for _, high in band_extrema(difference)), size
