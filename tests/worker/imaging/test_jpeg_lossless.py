"""The lossless JPEG master: entropy data copied, every metadata segment dropped."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from tests.support.imaging import (
    ADOBE_RGB_D50,
    encode,
    exif_bytes,
    halves,
    metadata_found,
    open_bytes,
    rgb_icc_profile,
)
from worker.imaging import Limits, process_upload
from worker.imaging.decode import open_source
from worker.imaging.jpeg_lossless import estimate_quality, lossless_master, strip_jpeg

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def _photo(width: int = 640, height: int = 480) -> PILImage.Image:
    image = halves(width, height)
    noise = PILImage.effect_noise((width, height), 30).convert("RGB")
    return PILImage.blend(image, noise, 0.3)


@pytest.mark.parametrize("progressive", [False, True])
def test_metadata_is_dropped_and_pixels_are_identical(progressive: bool, limits: Limits) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = _photo()
    data = encode(
        image,
        "JPEG",
        quality=85,
        exif=exif_bytes(1),
        icc_profile=srgb,
        xmp=XMP,
        comment=b"hi",
        progressive=progressive,
    )
    rendition = process_upload(data, limits)
    master = rendition.master
    assert master.data != data
    assert len(master.data) < len(data)
    assert metadata_found(master.data) == []
    assert b"\xff\xe1" not in master.data.split(b"\xff\xda")[0]  # no APP1 before the first scan
    assert b"\xff\xfe" not in master.data.split(b"\xff\xda")[0]  # no COM
    assert (master.width, master.height) == (640, 480)
    assert open_bytes(master.data).tobytes() == open_bytes(data).tobytes()  # no re-encode


def test_trailing_data_and_mpo_extras_are_dropped(limits: Limits) -> None:
    data = encode(_photo(), "JPEG", quality=85) + b"TRAILER" * 100
    master = process_upload(data, limits).master
    assert master.data.endswith(b"\xff\xd9")
    assert b"TRAILER" not in master.data


def test_orientation_other_than_1_is_re_encoded(limits: Limits) -> None:
    src = open_source(encode(_photo(), "JPEG", quality=85, exif=exif_bytes(6)), limits)
    assert lossless_master(src) is None


def test_non_srgb_profile_is_re_encoded(limits: Limits) -> None:
    profile = rgb_icc_profile("Adobe RGB (1998) test", ADOBE_RGB_D50)
    src = open_source(encode(_photo(), "JPEG", quality=85, icc_profile=profile), limits)
    assert lossless_master(src) is None


def test_bloated_jpeg_is_re_encoded(limits: Limits) -> None:
    data = encode(_photo(), "JPEG", quality=98)
    assert lossless_master(open_source(data, limits)) is None
    master = process_upload(data, limits).master
    assert len(master.data) < len(data)


def test_cmyk_is_not_copied(limits: Limits) -> None:
    data = encode(PILImage.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG", quality=80)
    assert lossless_master(open_source(data, limits)) is None


def test_quality_estimate_matches_the_encoder() -> None:
    for quality in (50, 75, 85, 90, 95):
        image = PILImage.open(io.BytesIO(encode(halves(16, 16), "JPEG", quality=quality)))
        estimate = estimate_quality(image.quantization)  # type: ignore[attr-defined]
        assert estimate is not None and abs(estimate - quality) <= 1


def test_strip_rejects_broken_streams() -> None:
    data = encode(_photo(64, 64), "JPEG", quality=80)
    assert strip_jpeg(data) is not None
    assert strip_jpeg(data[: len(data) // 2]) is None
    assert strip_jpeg(b"\xff\xd8\xff\xe0\x00") is None
    assert strip_jpeg(b"not a jpeg") is None
    arithmetic = bytearray(data)
    sof = arithmetic.index(b"\xff\xc0")
    arithmetic[sof + 1] = 0xC9  # arithmetic-coded: browsers can't show it, never copy it
    assert strip_jpeg(bytes(arithmetic)) is None


def test_an_already_stripped_jpeg_is_its_own_master(limits: Limits) -> None:
    """Nothing to drop: the master is the original object itself, so no copy and no compare."""
    data = encode(_photo(), "JPEG", quality=85)  # Pillow writes exactly our JFIF segment, nothing else
    stripped = strip_jpeg(data)
    assert stripped is not None and stripped[0] is data
    assert process_upload(data, limits).master.data is data
    # anything to drop (metadata, a trailer, fill bytes between segments) makes a new stream
    with_comment = encode(_photo(), "JPEG", quality=85, comment=b"hi")
    sos = data.index(b"\xff\xda")
    with_fill = data[:sos] + b"\xff" + data[sos:]  # a fill byte before a marker (B.1.1.2)
    no_jfif = data[:2] + data[2 + 18 :]  # no APP0 at all: ours is put in front
    for changed, expected in (
        (with_comment, None),
        (data + b"TRAILER", data),
        (with_fill, data),
        (no_jfif, data),
    ):
        out = strip_jpeg(changed)
        assert out is not None and out[0] is not changed
        assert expected is None or out[0] == expected
