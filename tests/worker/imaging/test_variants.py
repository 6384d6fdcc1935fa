"""process_upload end to end: master + sizes + placeholder, formats, animation, metadata."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from jobs.contract.errors import InvalidRequest
from tests.support.images import rgb
from tests.support.imaging import (
    BLUE,
    GREEN,
    RED,
    animated_gif,
    close,
    encode,
    exif_bytes,
    frames,
    halves,
    metadata_found,
    open_bytes,
    rgb_at,
)
from worker.imaging import Limits, process_upload
from worker.imaging.types import Encoded


def _dims(rendition_sizes: Mapping[str, Encoded]) -> dict[str, tuple[int, int]]:
    return {name: (enc.width, enc.height) for name, enc in rendition_sizes.items()}


def test_portrait_photo_sizes_fit_inside_their_boxes(limits: Limits) -> None:
    data = encode(halves(2000, 3000), "JPEG", quality=80)
    rendition = process_upload(data, limits)
    assert (rendition.master.width, rendition.master.height) == (2000, 3000)
    assert _dims(rendition.sizes) == {"small": (213, 320), "medium": (427, 640), "large": (720, 1080)}
    for name, encoded in rendition.sizes.items():
        image = open_bytes(encoded.data)
        assert image.size == (encoded.width, encoded.height), name
        assert image.format == "JPEG"
        assert close(rgb_at(image, (encoded.width // 4, encoded.height // 2)), (255, 0, 0, 255), 30)
        assert close(rgb_at(image, (encoded.width * 3 // 4, encoded.height // 2)), (0, 0, 255, 255), 30)
    assert rendition.placeholder is not None and len(rendition.placeholder) == 28
    assert rendition.transformable
    assert rendition.source_format == "jpeg"


def test_small_image_is_never_enlarged(limits: Limits) -> None:
    rendition = process_upload(encode(halves(300, 200), "PNG"), limits)
    assert _dims(rendition.sizes) == {"small": (300, 200), "medium": (300, 200), "large": (300, 200)}
    assert rendition.master.format == "png"
    assert rendition.sizes["large"].data == rendition.master.data  # same pixels: encoded once


def test_medium_image_keeps_own_size_only_where_smaller(limits: Limits) -> None:
    rendition = process_upload(encode(halves(1000, 500), "WEBP", quality=90), limits)
    assert rendition.master.format == "webp"
    assert _dims(rendition.sizes) == {"small": (426, 213), "medium": (853, 427), "large": (1000, 500)}
    assert all(open_bytes(e.data).format == "WEBP" for e in rendition.sizes.values())


def test_output_format_override_applies_to_master_and_sizes(limits: Limits) -> None:
    rendition = process_upload(encode(halves(900, 600), "JPEG"), limits, output_format="webp")
    assert {e.format for e in [rendition.master, *rendition.sizes.values()]} == {"webp"}
    assert all(open_bytes(e.data).format == "WEBP" for e in [rendition.master, *rendition.sizes.values()])
    with pytest.raises(InvalidRequest):
        process_upload(encode(halves(10, 10), "PNG"), limits, output_format="tiff")


@pytest.mark.parametrize(
    ("fmt", "params", "expected"),
    [
        ("TIFF", {}, "jpeg"),
        ("BMP", {}, "jpeg"),
        ("HEIF", {"quality": 90}, "jpeg"),
        ("AVIF", {"quality": 90}, "avif"),
        ("GIF", {}, "gif"),
    ],
)
def test_master_format_rules(fmt: str, params: dict[str, object], expected: str, limits: Limits) -> None:
    rendition = process_upload(encode(halves(64, 48), fmt, **params), limits)
    assert rendition.master.format == expected
    assert open_bytes(rendition.master.data).format == expected.upper()


def test_tiff_with_alpha_becomes_png(limits: Limits) -> None:
    image = halves(64, 48, left=(255, 0, 0, 0), right=(0, 0, 255, 255), mode="RGBA")
    rendition = process_upload(encode(image, "TIFF"), limits)
    assert rendition.master.format == "png"
    assert rgb_at(rendition.master.data, (5, 5))[3] == 0


def test_rgba_png_to_jpeg_is_flattened_on_white(limits: Limits) -> None:
    image = halves(64, 48, left=(255, 0, 0, 0), right=(0, 0, 255, 255), mode="RGBA")
    rendition = process_upload(encode(image, "PNG"), limits, output_format="jpeg")
    for encoded in [rendition.master, *rendition.sizes.values()]:
        assert close(rgb_at(encoded.data, (2, encoded.height // 2)), (255, 255, 255, 255), 6)


def test_no_metadata_survives_in_any_output(limits: Limits) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    sources = [
        encode(halves(1200, 900), "JPEG", exif=exif_bytes(1), icc_profile=srgb, comment=b"hello"),
        encode(halves(1200, 900), "JPEG", exif=exif_bytes(3), xmp=xmp),
        encode(halves(600, 400), "PNG", exif=exif_bytes(1), icc_profile=srgb),
        encode(halves(600, 400), "WEBP", exif=exif_bytes(1), icc_profile=srgb, xmp=xmp),
    ]
    for data in sources:
        for output in (None, "png", "webp", "avif", "gif"):
            rendition = process_upload(data, limits, output_format=output)
            for encoded in [rendition.master, *rendition.sizes.values()]:
                assert metadata_found(encoded.data) == [], (output, encoded.format)


def test_animated_gif_keeps_animation_in_master_and_sizes(limits: Limits) -> None:
    data = animated_gif([RED, GREEN, BLUE], size=(600, 400))
    rendition = process_upload(data, limits)
    assert rendition.master.format == "gif"
    assert rendition.master.frames == 3
    assert frames(rendition.master.data) == 3
    assert (rendition.master.width, rendition.master.height) == (600, 400)
    assert _dims(rendition.sizes)["small"] == (426, 284)
    for encoded in rendition.sizes.values():  # issue 18: the sizes animate like the master
        assert encoded.frames == 3 and frames(encoded.data) == 3
        assert close(rgb_at(encoded.data, (10, 10)), (255, 0, 0, 255), 10)
    assert rendition.still_reason is None
    master = PILImage.open(io.BytesIO(rendition.master.data))
    master.seek(1)
    assert close(rgb(master, (10, 10)), GREEN, 10)


def test_animated_gif_to_webp_stays_animated_and_to_jpeg_does_not(limits: Limits) -> None:
    data = animated_gif([RED, GREEN, BLUE])
    assert frames(process_upload(data, limits, output_format="webp").master.data) == 3
    jpeg = process_upload(data, limits, output_format="jpeg")
    assert jpeg.master.frames == 1
    assert close(rgb_at(jpeg.master.data, (5, 5)), (255, 0, 0, 255), 20)


def test_animated_webp_input(limits: Limits) -> None:
    images = [PILImage.new("RGB", (40, 30), c) for c in (RED, BLUE)]
    data = encode(
        images[0], "WEBP", save_all=True, append_images=images[1:], duration=[100, 100], lossless=True
    )
    rendition = process_upload(data, limits)
    assert rendition.master.format == "webp" and rendition.master.frames == 2
    assert close(rgb_at(rendition.sizes["small"].data, (5, 5)), (255, 0, 0, 255), 10)


def test_grey_jpeg_stays_grey(limits: Limits) -> None:
    rendition = process_upload(encode(PILImage.new("L", (900, 600), 90), "JPEG"), limits)
    assert open_bytes(rendition.sizes["medium"].data).mode == "L"
    value = open_bytes(rendition.sizes["medium"].data).getpixel((10, 10))
    assert isinstance(value, int) and abs(value - 90) <= 3
