"""The worker's metrics: outcomes, durations and in-progress per kind, bytes in/out per job kind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import structlog

from jobs.contract.constants import Queue
from jobs.contract.settings import Settings
from jobs.plumbing.storage.memory import MemoryStorage
from jobs.services.admin import metrics
from worker.metered_storage import MeteredStorage
from worker.middleware.metrics import Metrics, job_outcome


async def test_bytes_are_counted_per_job_kind_and_direction() -> None:
    counted: list[tuple[str, str, int]] = []

    storage = MeteredStorage(MemoryStorage(), lambda *row: counted.append(row))
    with structlog.contextvars.bound_contextvars(job="upload"):
        await storage.put("originals/image_x", b"12345")  # a fetched source, staged: input
        assert await storage.get("originals/image_x") == b"12345"
        await storage.put("images/image_x/master.jpg", b"abc")
    await storage.put("records/image_x.json", b"{}")  # outside any job
    await storage.copy("images/image_x/master.jpg", "public/image_x/master.jpg")  # server-side: not counted
    assert [o.key for o in await storage.list("public/")] == ["public/image_x/master.jpg"]
    await storage.close()
    assert counted == [("in", "upload", 5), ("in", "upload", 5), ("out", "upload", 3), ("out", "none", 2)]


def test_outcome_from_exception_and_retry_decision() -> None:
    message = SimpleNamespace(failed=False)
    assert job_outcome(message, None, skipped=False) == "ok"
    assert job_outcome(message, RuntimeError(), skipped=False) == "retry"
    assert job_outcome(SimpleNamespace(failed=True), RuntimeError(), skipped=False) == "failed"
    assert job_outcome(message, None, skipped=True) == "skipped"
    # returned normally, but the runner failed the image (permanent error) and recorded it
    assert (
        job_outcome(SimpleNamespace(failed=False, darkroom_result="failed"), None, skipped=False) == "failed"
    )
    assert job_outcome(SimpleNamespace(failed=False, darkroom_result="ok"), None, skipped=False) == "ok"


def fake_message(n: int, actor: str = "publish", queue: Queue = Queue.PUBLISH, failed: bool = False) -> Any:
    return SimpleNamespace(
        message_id=f"m{n}", actor_name=actor, queue_name=queue.value + ".DQ", args=({"kind": actor},),
        options={}, failed=failed,
    )  # fmt: skip


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_durations_and_in_progress_by_kind_and_outcome(settings: Settings) -> None:
    middleware = Metrics(settings)
    middleware.metrics = metrics  # what after_process_boot does once the directory is set
    broker = SimpleNamespace()
    labels = {"kind": "publish", "queue": Queue.PUBLISH.value}
    before = {
        o: sample("darkroom_job_duration_seconds_count", **labels, outcome=o) for o in metrics.JOB_OUTCOMES
    }
    base_progress = sample("darkroom_jobs_in_progress", **labels)

    ok, retry, failed, skipped = (fake_message(n) for n in range(4))
    failed.failed = True
    for m in (ok, retry, failed, skipped):
        middleware.before_process_message(broker, m)
    assert sample("darkroom_jobs_in_progress", **labels) == base_progress + 4
    middleware.after_process_message(broker, ok)
    middleware.after_process_message(broker, retry, exception=RuntimeError("later"))
    middleware.after_process_message(broker, failed, exception=RuntimeError("gave up"))
    middleware.after_skip_message(broker, skipped)
    middleware.after_process_message(broker, fake_message(99))  # never started here: ignored

    after = {
        o: sample("darkroom_job_duration_seconds_count", **labels, outcome=o) for o in metrics.JOB_OUTCOMES
    }
    assert {o: after[o] - before[o] for o in after} == {"ok": 1, "retry": 1, "failed": 1, "skipped": 1}
    assert sample("darkroom_jobs_in_progress", **labels) == base_progress
    assert middleware.forks and Metrics(settings.model_copy(update={"metrics_port": 0})).forks == []
