"""Helpers shared by tests (images with known pixels, typed pixel reads, the Image field set)."""

from __future__ import annotations

import io

from PIL import Image as PILImage

IMAGE_FIELDS = {
    "id", "object", "name", "filename", "status", "error", "format", "width", "height", "bytes", "size",
    "url", "public", "published_at", "sizes", "parent_id", "operations", "checksum", "placeholder",
    "transformable", "metadata", "caption", "created_at", "updated_at", "expires_at", "version",
}  # fmt: skip


def pixel(image: PILImage.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The channel values at ``xy`` of a multi-band image (Pillow types ``getpixel`` loosely)."""
    value = image.getpixel(xy)
    assert isinstance(value, tuple), f"{image.mode} image has no bands at {xy}: {value!r}"
    return value


def rgb(image: PILImage.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    """The red, green and blue values at ``xy`` (any mode, converted)."""
    red, green, blue = pixel(image.convert("RGB"), xy)
    return red, green, blue


def band_extrema(image: PILImage.Image) -> list[tuple[int, int]]:
    """(low, high) of each band of a multi-band image."""
    bands: list[tuple[int, int]] = []
    for band in image.getextrema():
        assert isinstance(band, tuple), f"{image.mode} image is single-band"
        bands.append((int(band[0]), int(band[1])))
    return bands


def oriented_jpeg(width: int, height: int, orientation: int) -> bytes:
    """A blue JPEG with a red top-left quadrant (as stored), tagged with an EXIF Orientation."""
    image = PILImage.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "DarkroomTestCam"
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()
