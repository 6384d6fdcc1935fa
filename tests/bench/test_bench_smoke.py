"""The benchmark code paths still run (tiny inputs; nothing about speed is asserted)."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
import redis
from PIL import Image as PILImage

from bench import system, variants
from bench.stack import bench_stack
from jobs.contract.constants import SIZES, image_key
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image


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


def test_the_system_benchmark_runs_on_a_real_stack(photo: bytes) -> None:
    """throughput and scaling through the real API, Redis and worker processes (tiny counts)."""
    with bench_stack() as stack:
        result = system.throughput(stack, [photo] * 6, processes=1, rounds=2)
        assert result["n"] == 6 and result["system"] > 0 and result["engine"] > 0
        assert result["overhead"] == pytest.approx(1 - result["system"] / result["engine"])
        rounds = [float(o) for o in result["rounds"].split("/")]
        assert len(rounds) == 2 and round(result["overhead"], 3) in rounds  # the median round's
        # CPU per image by process (from /proc: 10 ms ticks, so a few requests may show 0 for one)
        cpu = {k: v for k, v in result.items() if k.startswith("cpu_ms_")}
        assert set(cpu) == {"cpu_ms_workers", "cpu_ms_api", "cpu_ms_redis", "cpu_ms_client"}
        assert all(v >= 0 for v in cpu.values()) and cpu["cpu_ms_workers"] > 0  # they did the imaging
        scaled = system.scaling(stack, [photo] * 4, threads=1, order=(1, 2))
        assert scaled["one"] > 0 and scaled["ratio"] == pytest.approx(scaled["two"] / scaled["one"])
        most = (os.cpu_count() or 1) + 0.5  # CPU cores the workers kept busy (10 ms ticks: may be 0)
        assert 0 <= scaled["cores_one"] <= most and 0 <= scaled["cores_two"] <= most
        # worker CPU per image: 8 images imaged in all, tens of ms, so their ticks can't both be 0
        per_image = scaled["cpu_ms_one"], scaled["cpu_ms_two"]
        assert min(per_image) >= 0 and sum(per_image) > 0
        client = redis.Redis.from_url(stack.settings.redis_url)
        ids = [key.decode().removeprefix(image_key("")) for key in client.scan_iter(image_key("*"))]
        client.close()
        images = stack.images(ids)
    assert len(images) == 4  # the last drained backlog, every one ready at the photo's size
    assert all(i.status == "ready" and (i.width, i.height) == (640, 480) for i in images)
