"""Encoders: every output format round-trips; alpha flattened for JPEG; no metadata; format rules."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from jobs.contract.constants import OUTPUT_FORMATS
from jobs.contract.errors import InvalidRequest
from tests.support.images import rgb
from tests.support.imaging import close, frames, halves, metadata_found, rgb_at
from worker.imaging.encode import EncodeOptions, check_output_format, default_output_format, encode

PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "gif": "GIF"}


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_every_output_format_round_trips(fmt: str) -> None:
    image = halves(64, 48)
    image.info["exif"] = b"Exif\x00\x00junk"  # must not ride along
    image.info["icc_profile"] = b"junk"
    encoded = encode(image, fmt)
    assert encoded.format == fmt
    assert (encoded.width, encoded.height, encoded.frames) == (64, 48, 1)
    assert len(encoded.data) > 50
    reopened = PILImage.open(io.BytesIO(encoded.data))
    assert reopened.format == PIL_FORMAT[fmt]
    assert reopened.size == (64, 48)
    assert close(rgb_at(encoded.data, (8, 24)), (255, 0, 0, 255), 40)
    assert close(rgb_at(encoded.data, (56, 24)), (0, 0, 255, 255), 40)
    assert metadata_found(encoded.data) == []


def test_jpeg_flattens_alpha_on_white() -> None:
    image = halves(40, 20, left=(255, 0, 0, 0), right=(0, 0, 255, 255), mode="RGBA")
    encoded = encode(image, "jpeg")
    assert PILImage.open(io.BytesIO(encoded.data)).mode == "RGB"
    assert close(rgb_at(encoded.data, (5, 10)), (255, 255, 255, 255), 4)
    assert close(rgb_at(encoded.data, (35, 10)), (0, 0, 255, 255), 20)


def test_jpeg_flattens_on_a_chosen_background() -> None:
    image = PILImage.new("RGBA", (16, 16), (0, 0, 0, 0))
    encoded = encode(image, "jpeg", EncodeOptions(background=(0, 128, 0)))
    assert close(rgb_at(encoded.data, (8, 8)), (0, 128, 0, 255), 6)


@pytest.mark.parametrize("fmt", ["png", "webp", "avif", "gif"])
def test_alpha_formats_keep_transparency(fmt: str) -> None:
    image = halves(40, 20, left=(255, 0, 0, 0), right=(0, 0, 255, 255), mode="RGBA")
    encoded = encode(image, fmt)
    assert rgb_at(encoded.data, (5, 10))[3] == 0
    assert rgb_at(encoded.data, (35, 10))[3] == 255


def test_quality_option_changes_size() -> None:
    image = PILImage.effect_noise((128, 128), 40).convert("RGB")
    low = encode(image, "jpeg", EncodeOptions(quality=20))
    high = encode(image, "jpeg", EncodeOptions(quality=95))
    assert len(low.data) < len(high.data)


def test_progressive_jpeg_on_request() -> None:
    encoded = encode(halves(64, 64), "jpeg", EncodeOptions(progressive=True))
    assert PILImage.open(io.BytesIO(encoded.data)).info.get("progressive")
    assert not PILImage.open(io.BytesIO(encode(halves(64, 64), "jpeg").data)).info.get("progressive")


def test_lossless_webp_is_exact() -> None:
    image = PILImage.effect_noise((32, 32), 50).convert("RGB")
    encoded = encode(image, "webp", EncodeOptions(lossless=True))
    assert PILImage.open(io.BytesIO(encoded.data)).convert("RGB").tobytes() == image.tobytes()


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_animation_is_kept_for_animated_formats(fmt: str) -> None:
    images = [PILImage.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    encoded = encode(images, fmt, durations=[70, 80, 90], loop=0)
    assert encoded.frames == 3
    assert frames(encoded.data) == 3
    reopened = PILImage.open(io.BytesIO(encoded.data))
    reopened.seek(2)
    assert close(rgb(reopened, (5, 5)), (0, 0, 255), 10)
    assert reopened.info.get("duration") == 90


def test_still_formats_take_the_first_frame() -> None:
    images = [PILImage.new("RGB", (20, 10), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    encoded = encode(images, "png")
    assert encoded.frames == 1
    assert close(rgb_at(encoded.data, (5, 5)), (255, 0, 0, 255), 0)


@pytest.mark.parametrize(
    ("source", "alpha", "expected"),
    [
        ("jpeg", False, "jpeg"),
        ("png", True, "png"),
        ("webp", False, "webp"),
        ("avif", False, "avif"),
        ("gif", True, "gif"),
        ("heif", True, "jpeg"),
        ("tiff", False, "jpeg"),
        ("tiff", True, "png"),
        ("bmp", False, "jpeg"),
    ],
)
def test_default_output_format(source: str, alpha: bool, expected: str) -> None:
    assert default_output_format(source, alpha) == expected


def test_check_output_format() -> None:
    assert check_output_format("JPG") == "jpeg"
    assert check_output_format(None) is None
    with pytest.raises(InvalidRequest) as caught:
        check_output_format("bmp")
    assert caught.value.field == "output_format"
