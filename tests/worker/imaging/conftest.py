"""Fixtures for the imaging tests (the image builders they use live in tests/support/imaging.py)."""

from __future__ import annotations

import pillow_heif
import pytest

from worker.imaging import Limits

pillow_heif.register_heif_opener()


@pytest.fixture
def limits() -> Limits:
    return Limits(max_pixels=50_000_000, max_frames=50, max_input_bytes=20 * 1024 * 1024)
