"""Two worker pools side by side (``--queues upload`` / ``--queues transform``), each taking only
its own jobs, while ``darkroom status`` and ``/metrics`` report the backlog as Redis holds it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis as AsyncRedis

from jobs.client import Client
from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.services.admin.keys import queue_key
from jobs.services.admin.stats import read_snapshot
from tests.support.images import oriented_jpeg
from tests.support.servers import free_port
from tests.support.stack import ROOT, Proc, process_env, start_api, start_worker, with_free_http_port

pytestmark = pytest.mark.e2e
UPLOADS, TRANSFORMS = 4, 6
JOB_FIELDS = {"image_id", "job", "queue", "attempt", "account"}


def cli_status(settings: Settings) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "jobs.cli.main", "status", "--json"],
        cwd=ROOT, env=process_env(settings), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    status: dict[str, Any] = json.loads(out.stdout)
    return status


def snapshot(settings: Settings) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        client = AsyncRedis.from_url(settings.redis_url)
        try:
            return (await read_snapshot(client, settings, images=False)).as_dict()
        finally:
            await client.aclose()

    return asyncio.run(read())


def queue_row(status: dict[str, Any], queue: Queue) -> dict[str, Any]:
    rows: list[dict[str, Any]] = status["queues"]
    return next(row for row in rows if row["queue"] == queue.value)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url, timeout=10).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def depth(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], queue: Queue) -> float:
    return metrics[("darkroom_queue_depth", (("queue", queue.value),))]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def job_counts(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for (name, labels), value in metrics.items():
        if name == "darkroom_job_duration_seconds_count":
            kind = dict(labels)["kind"]
            counts[kind] = counts.get(kind, 0) + value
    return counts


def job_lines(proc: Proc) -> Iterator[dict[str, Any]]:
    for line in proc.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "job" in entry:
            yield entry


@pytest.fixture
def pools(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = with_free_http_port(make_settings(log_format="json", worker_heartbeat_interval=0.5))
    procs: list[Proc] = []
    stack: dict[str, Any] = {"settings": settings, "procs": procs, "tmp": tmp_path}
    api, base_url = start_api(settings, tmp_path)
    procs.append(api)
    stack["base_url"] = base_url
    yield stack
    for proc in reversed(procs):
        proc.stop()


def start_pool(stack: dict[str, Any], queue: str, processes: int) -> tuple[Proc, str]:
    port = free_port()
    settings = stack["settings"].model_copy(update={"metrics_port": port})
    proc = start_worker(
        settings, stack["tmp"], "--queues", queue, "--processes", str(processes), name=f"pool-{queue}"
    )
    stack["procs"].append(proc)
    url = f"http://127.0.0.1:{port}/metrics"

    def exporting() -> bool:
        assert proc.alive(), proc.output()[-4000:]
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(exporting, f"the {queue} pool's exporter")
    return proc, url


def test_two_pools_take_only_their_jobs_and_status_tracks_the_backlog(pools: dict[str, Any]) -> None:
    settings: Settings = pools["settings"]
    base_url: str = pools["base_url"]
    r = redis.Redis.from_url(settings.redis_url)
    client = Client(base_url, "k1", timeout=60)

    # 1. Uploads pile up while no pool runs: the CLI and /metrics report what Redis holds.
    uploads = [client.upload(oriented_jpeg(640, 480, 1), filename=f"u{i}.jpg").id for i in range(UPLOADS)]
    before = cli_status(settings)
    assert queue_row(before, Queue.UPLOAD)["ready"] == r.llen(queue_key(Queue.UPLOAD)) == UPLOADS
    assert before["workers"] == [] and before["images"]["by_status"]["processing"] == UPLOADS
    assert depth(scrape(f"{base_url}/metrics"), Queue.UPLOAD) == UPLOADS

    # 2. The upload pool drains its queue; transforms queued meanwhile are left alone.
    upload_pool, upload_metrics = start_pool(pools, "upload", processes=2)
    done = [client.wait(i, timeout=90) for i in uploads]
    assert all(image.status == Status.READY for image in done), [i.error for i in done]
    big = client.wait(client.upload(oriented_jpeg(2400, 1800, 1), filename="big.jpg").id, timeout=90)
    assert big.status == Status.READY
    uploads.append(big.id)
    broken = client.wait(client.upload(b"not an image", filename="broken.jpg").id, timeout=90)
    assert broken.status == Status.FAILED
    uploads.append(broken.id)
    ops = [{"op": "blur", "sigma": 8}, {"op": "sharpen", "amount": 1.5}]  # slow enough to watch it drain
    transforms = [
        client.transform(big.id, [*ops, {"op": "resize", "width": 900 + n}]).id for n in range(TRANSFORMS)
    ]
    waiting = cli_status(settings)
    transform_row, upload_row = queue_row(waiting, Queue.TRANSFORM), queue_row(waiting, Queue.UPLOAD)
    assert transform_row["ready"] == r.llen(queue_key(Queue.TRANSFORM)) == TRANSFORMS
    assert (transform_row["workers"], upload_row["workers"]) == (0, 2)
    assert [w["queues"] for w in waiting["workers"]] == [[Queue.UPLOAD.value]] * 2
    metrics = scrape(f"{base_url}/metrics")
    assert depth(metrics, Queue.TRANSFORM) == TRANSFORMS
    assert metrics[("darkroom_queue_workers", (("queue", Queue.UPLOAD.value),))] == 2
    assert all(client.get(i).status == Status.PROCESSING for i in transforms)

    # 3. The transform pool drains the backlog: every reading, whoever makes it, only goes down.
    transform_pool, transform_metrics = start_pool(pools, "transform", processes=1)
    readings: list[tuple[str, int, int]] = []

    def drained() -> bool:
        row = queue_row(snapshot(settings), Queue.TRANSFORM)  # what `darkroom status` reads, in-process
        readings.append(("status", row["ready"], row["in_flight"]))
        readings.append(("metrics", int(depth(scrape(f"{base_url}/metrics"), Queue.TRANSFORM)), 0))
        readings.append(("redis", int(r.llen(queue_key(Queue.TRANSFORM))), 0))
        return row["ready"] == 0 and row["in_flight"] == 0

    wait_until(drained, "the transform backlog to drain")
    ready_counts = [ready for _, ready, _ in readings]
    assert ready_counts == sorted(ready_counts, reverse=True) and ready_counts[-1] == 0
    assert all(ready + in_flight <= TRANSFORMS for _, ready, in_flight in readings)
    assert all(client.wait(i, timeout=60).status == Status.READY for i in transforms)
    after = cli_status(settings)
    assert [(q["ready"], q["in_flight"]) for q in after["queues"] if q["queue"] != Queue.PURGE.value] == [
        (0, 0)
    ] * 4
    assert after["images"]["by_status"] == {"processing": 0, "ready": UPLOADS + 1 + TRANSFORMS, "failed": 1}

    # 4. Each pool ran only its own kind (per-pool metrics and JSON logs agree).
    upload_samples = scrape(upload_metrics)
    assert job_counts(upload_samples) == {"upload": UPLOADS + 2}
    failed = (("kind", "upload"), ("outcome", "failed"), ("queue", Queue.UPLOAD.value))
    assert (
        upload_samples[("darkroom_job_duration_seconds_count", failed)] == 1
    )  # permanent error, not retried
    assert job_counts(scrape(transform_metrics)) == {"transform": TRANSFORMS}
    for proc, kind, ids in ((upload_pool, "upload", uploads), (transform_pool, "transform", transforms)):
        lines = list(job_lines(proc))
        started = [line for line in lines if line.get("event") == "job.start"]
        assert {line["job"] for line in lines} == {kind}
        assert sorted(line["image_id"] for line in started) == sorted(ids)
        for line in lines:  # every line logged inside a job carries its context
            assert set(line) >= JOB_FIELDS, line
            assert (line["queue"], line["account"], line["attempt"]) == (f"darkroom.{kind}", "acme", 1)
    client.close()
