"""Modes and colour management: ICC → sRGB, CMYK, LAB, 16-bit, palette + alpha, LA, 1-bit."""

from __future__ import annotations

import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from tests.support.images import pixel
from tests.support.imaging import (
    ADOBE_RGB_D50,
    SWAPPED_RB_D50,
    close,
    encode,
    metadata_found,
    open_bytes,
    png16,
    rgb_at,
    rgb_icc_profile,
)
from worker.imaging import Limits, process_upload
from worker.imaging.color import flatten, is_srgb_profile, to_working


def test_embedded_profile_is_converted_to_srgb(limits: Limits) -> None:
    """Pure 'red' in a profile whose red primary is sRGB blue must come out blue."""
    profile = rgb_icc_profile("Swapped RB test", SWAPPED_RB_D50)
    data = encode(PILImage.new("RGB", (32, 32), (255, 0, 0)), "PNG", icc_profile=profile)
    rendition = process_upload(data, limits)
    r, g, b, _ = rgb_at(rendition.master.data, (16, 16))
    assert b > 230 and r < 30 and g < 30, (r, g, b)
    assert metadata_found(rendition.master.data) == []


def test_adobe_rgb_saturated_green_is_remapped_but_grey_stays_grey(limits: Limits) -> None:
    profile = rgb_icc_profile("Adobe RGB (1998) test", ADOBE_RGB_D50, gamma=563 / 256)
    image = PILImage.new("RGB", (32, 16), (128, 128, 128))
    image.paste((60, 180, 60), (16, 0, 32, 16))
    data = encode(image, "JPEG", quality=100, subsampling=0, icc_profile=profile)
    master = open_bytes(process_upload(data, limits, output_format="png").master.data).convert("RGB")
    grey = master.getpixel((4, 8))
    green = master.getpixel((28, 8))
    assert isinstance(grey, tuple) and isinstance(green, tuple)
    assert max(grey) - min(grey) <= 3  # neutral stays neutral
    assert green[0] < 40 and green[1] >= 170  # wider gamut green spreads further from red in sRGB
    assert not close(green, (60, 180, 60), 10)  # really converted, not copied


def test_srgb_profile_is_recognised_and_left_alone() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert is_srgb_profile(srgb)
    assert not is_srgb_profile(rgb_icc_profile("Adobe RGB (1998) test", ADOBE_RGB_D50))
    assert not is_srgb_profile(b"not a profile")
    image = PILImage.new("RGB", (4, 4), (10, 200, 30))
    assert to_working(image, srgb).getpixel((0, 0)) == (10, 200, 30)


def test_broken_profile_is_ignored(limits: Limits) -> None:
    data = encode(PILImage.new("RGB", (8, 8), (200, 10, 10)), "PNG", icc_profile=b"\x00" * 200)
    assert close(rgb_at(process_upload(data, limits).master.data, (4, 4)), (200, 10, 10, 255), 2)


def test_cmyk_jpeg_becomes_rgb(limits: Limits) -> None:
    cmyk = PILImage.new("CMYK", (32, 32), (0, 255, 255, 0))  # no cyan, full magenta + yellow = red
    cmyk.paste((255, 0, 0, 0), (16, 0, 32, 32))  # cyan
    rendition = process_upload(encode(cmyk, "JPEG", quality=95), limits)
    assert rendition.master.format == "jpeg"
    master = open_bytes(rendition.master.data)
    assert master.mode == "RGB"
    assert close(rgb_at(master, (4, 16)), (255, 0, 0, 255), 30)
    assert close(rgb_at(master, (28, 16)), (0, 255, 255, 255), 30)


def test_lab_tiff_is_converted() -> None:
    lab = PILImage.new("LAB", (8, 8), (255, 128, 128))  # L=100, a=b=0: white
    out = to_working(lab)
    assert out.mode == "RGB"
    assert close(pixel(out, (0, 0)), (255, 255, 255), 3)


def test_16_bit_grey_png_is_scaled_not_clipped(limits: Limits) -> None:
    data = png16(8, 8, [0x8000], colour_type=0)
    assert open_bytes(data).mode.startswith("I")
    master = open_bytes(process_upload(data, limits).master.data)
    assert master.mode == "L"
    value = master.getpixel((4, 4))
    assert isinstance(value, int) and 125 <= value <= 130


def test_16_bit_rgba_png_keeps_alpha(limits: Limits) -> None:
    data = png16(8, 8, [0xFFFF, 0, 0, 0x8000], colour_type=6)
    rendition = process_upload(data, limits)
    assert rendition.master.format == "png"
    assert close(rgb_at(rendition.master.data, (2, 2)), (255, 0, 0, 128), 2)


def test_palette_with_transparency_keeps_alpha_and_flattens_for_jpeg(limits: Limits) -> None:
    image = PILImage.new("P", (20, 10), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (10, 0, 20, 10))
    data = encode(image, "PNG", transparency=0)  # index 0 (red) is transparent
    png = process_upload(data, limits)
    assert rgb_at(png.master.data, (2, 5))[3] == 0
    assert close(rgb_at(png.master.data, (15, 5)), (0, 0, 255, 255), 0)
    jpeg = process_upload(data, limits, output_format="jpeg")
    assert close(rgb_at(jpeg.master.data, (2, 5)), (255, 255, 255, 255), 6)  # flattened on white
    assert close(rgb_at(jpeg.master.data, (15, 5)), (0, 0, 255, 255), 20)


@pytest.mark.parametrize(
    ("mode", "value", "expected_mode"),
    [
        ("LA", (100, 0), "RGBA"),
        ("1", 1, "L"),
        ("I", 0x8000, "L"),
        ("RGBX", (1, 2, 3, 4), "RGB"),
        ("L", 7, "L"),
    ],
)
def test_modes_normalise(mode: str, value: object, expected_mode: str) -> None:
    image = PILImage.new(mode, (4, 4), value)  # type: ignore[arg-type]
    image.info["dpi"] = (72, 72)
    out = to_working(image)
    assert out.mode == expected_mode
    assert out.info == {}


def test_fully_opaque_alpha_is_dropped() -> None:
    out = to_working(PILImage.new("RGBA", (4, 4), (1, 2, 3, 255)))
    assert out.mode == "RGB"


def test_flatten_composites_on_background() -> None:
    image = PILImage.new("RGBA", (2, 1), (255, 0, 0, 0))
    image.putpixel((1, 0), (255, 0, 0, 128))
    flat = flatten(image, (0, 0, 255))
    assert flat.mode == "RGB"
    assert flat.getpixel((0, 0)) == (0, 0, 255)
    assert close(pixel(flat, (1, 0)), (128, 0, 127), 2)
