"""Helpers shared by end-to-end tests (images with known pixels, the Image field set)."""

from __future__ import annotations

import io

from PIL import Image as PILImage

IMAGE_FIELDS = {
    "id", "object", "name", "filename", "status", "error", "format", "width", "height", "bytes", "size",
    "url", "public", "published_at", "sizes", "parent_id", "operations", "checksum", "placeholder",
    "transformable", "metadata", "caption", "created_at", "updated_at", "expires_at", "version",
}  # fmt: skip


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
