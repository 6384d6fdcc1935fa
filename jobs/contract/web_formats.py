"""The web image formats a file's first bytes name for certain: JPEG, PNG, GIF, WebP.

The worker's sniffer (``worker/imaging/sniff.py``) starts here and goes on to the formats
it converts; the API uses this alone to name an upload that came without a filename
(``{id}.{ext}``, docs/design.md §2) in its first answer. These four are stored in their own
format, so the extension known at upload is the stored master's.
"""

from __future__ import annotations

from typing import Final

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def web_format(data: bytes) -> str | None:
    """``jpeg``, ``png``, ``gif`` or ``webp`` when the magic bytes say so, else None."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    return None
