"""Prometheus exposition: system gauges from Redis, the API's /metrics, multiprocess aggregation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import dramatiq
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from jobs.api import create_app
from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.plumbing.queue import redis_broker
from jobs.services.admin.images import ImageCounts, OldestProcessing
from jobs.services.admin.keys import queue_key
from jobs.services.admin.metrics import exposition
from jobs.services.admin.queues import QueueStats
from jobs.services.admin.stats import Snapshot
from tests.support.servers import free_port
from tests.support.stack import ROOT

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_snapshot_gauges_carry_every_number() -> None:
    snapshot = Snapshot(
        at_ms=0,
        queues=[
            QueueStats(Queue.UPLOAD.value, 7, 2, 3, 1, 4),
            QueueStats(Queue.TRANSFORM.value, 0, 0, 0, 5, 0),
        ],
        workers=[],
        images=ImageCounts({"processing": 3, "ready": 10, "failed": 2}),
        oldest_processing=OldestProcessing("image_x", "acme", "", "", 42.0),
    )
    got = samples(exposition(snapshot, process_metrics=False).decode())
    up = Queue.UPLOAD.value
    assert got[("darkroom_queue_depth", (("queue", up),))] == 7
    assert got[("darkroom_queue_delayed", (("queue", up),))] == 2
    assert got[("darkroom_queue_in_flight", (("queue", up),))] == 3
    assert got[("darkroom_queue_dead_letters", (("queue", up),))] == 1
    assert got[("darkroom_queue_workers", (("queue", up),))] == 4
    assert got[("darkroom_queue_dead_letters", (("queue", Queue.TRANSFORM.value),))] == 5
    assert got[("darkroom_images", (("status", "ready"),))] == 10
    assert got[("darkroom_images", (("status", "failed"),))] == 2
    assert got[("darkroom_oldest_processing_age_seconds", ())] == 42
    assert got[("darkroom_workers_live", ())] == 0 and got[("darkroom_redis_up", ())] == 1
    down = samples(exposition(None, process_metrics=False).decode())
    assert down == {("darkroom_redis_up", ()): 0.0}


def test_api_metrics_show_queue_depths_and_requests(settings: Settings) -> None:
    broker = redis_broker(settings)
    for n in range(3):
        broker.enqueue(dramatiq.Message(queue_name=Queue.TRANSFORM.value, actor_name="transform",
                                        args=({"n": n},), kwargs={}, options={}))  # fmt: skip
    broker.close()
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert api.get("/v1/images/image_" + "a" * 24, headers={"x-api-key": "k1"}).status_code == 404
        response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    depth = redis.Redis.from_url(settings.redis_url).llen(queue_key(Queue.TRANSFORM))
    assert got[("darkroom_queue_depth", (("queue", Queue.TRANSFORM.value),))] == depth == 3
    assert got[("darkroom_queue_depth", (("queue", Queue.UPLOAD.value),))] == 0
    assert got[("darkroom_images", (("status", "processing"),))] == 0
    key = (
        "darkroom_http_requests_total",
        (("method", "GET"), ("route", "/v1/images/{image_id}"), ("status", "404")),
    )
    assert got[key] >= 1  # by route template, never the raw path


def test_api_metrics_answer_when_redis_is_down(make_settings: Any) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as api:
        response = api.get("/metrics")
    assert response.status_code == 200
    assert samples(response.text)[("darkroom_redis_up", ())] == 0


def test_worker_entry_points_do_not_import_prometheus_client_early() -> None:
    """prometheus_client fixes multiprocess mode on first import: the pool master must not import it."""
    code = (
        "import sys, jobs.cli.main as m, worker.cli, worker.app; m.build_parser(); "
        "print('prometheus_client' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_multiprocess_values_are_summed_across_processes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DARKROOM_")} | {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)
    }
    child = textwrap.dedent("""
        import sys
        from jobs.services.admin import metrics
        assert metrics.multiprocess_active()
        metrics.BYTES_IN.labels("upload").inc(int(sys.argv[1]))
        metrics.JOB_DURATION.labels("upload", "darkroom.upload", "ok").observe(0.2)
    """)
    for amount in ("100", "23"):
        subprocess.run([sys.executable, "-c", child, amount], cwd=ROOT, env=env, check=True)
    reader = (
        "from jobs.services.admin.metrics import exposition; import sys; "
        "sys.stdout.write(exposition(None).decode())"
    )
    text = subprocess.run(
        [sys.executable, "-c", reader], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    got = samples(text.stdout)
    assert got[("darkroom_bytes_in_total", (("kind", "upload"),))] == 123
    labels = (("kind", "upload"), ("outcome", "ok"), ("queue", "darkroom.upload"))
    assert got[("darkroom_job_duration_seconds_count", labels)] == 2
