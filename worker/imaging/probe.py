"""``probe``: what is this file? A header read only, with the same limits and errors as decoding."""

from __future__ import annotations

from worker.imaging.decode import open_source
from worker.imaging.edge import imaging_edge
from worker.imaging.types import Limits, ProbeResult


@imaging_edge
def probe(data: bytes, limits: Limits) -> ProbeResult:
    """Format, displayed width/height, frame count (+ orientation, alpha, mode) without decoding pixels.

    Raises ``TooLarge`` (bytes, pixels, frames), ``UnsupportedMediaType`` (SVG, PDF, ...) or
    ``MediaFailed`` (empty, text, HTML, truncated header, garbage).
    """
    return open_source(data, limits).info
