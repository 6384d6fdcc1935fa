"""The benchmark code paths still run (tiny inputs; nothing about speed is asserted)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image as PILImage

from bench import system, variants
from jobs.constants import SIZES
from jobs.ids import new_image_id
from jobs.models import Image


@pytest.fixture(scope="module")
def photo() -> bytes:
    buf = io.BytesIO()
    variants.photo_like(640, 480, seed=1).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_ours_and_naive_produce_the_same_variants(photo: bytes) -> None:
    ours, naive = variants.ours(photo, "jpeg"), variants.naive(photo, "jpeg")
    assert set(ours) == set(naive) and set(SIZES) <= set(ours)
    for name in SIZES:
        assert PILImage.open(io.BytesIO(ours[name])).size == PILImage.open(io.BytesIO(naive[name])).size
    assert variants.psnr(ours["large"], naive["large"]) > 30  # same picture, not the same bytes


def test_engine_rate_and_latency_statistics(photo: bytes) -> None:
    assert system.engine_rate([photo] * 2, processes=1) > 0
    start = datetime(2026, 1, 1, tzinfo=UTC)
    images = [
        Image(id=new_image_id(), name="x", filename="x", created_at=start + timedelta(seconds=i),
              updated_at=start + timedelta(seconds=i, milliseconds=10 * (i + 1)))
        for i in range(10)
    ]  # fmt: skip
    stats = system.latencies(images)
    assert stats["n"] == 10 and stats["p50"] == pytest.approx(55.0) and stats["p99"] <= 100.0
    assert system.span_rate(images) == pytest.approx(10 / 9.1)
