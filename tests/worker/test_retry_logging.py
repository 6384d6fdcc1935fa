"""A failed attempt is one log line; a traceback only for a bug, and only once per message.

A real Dramatiq worker (stub broker, Darkroom's DurableRetries) runs an actor that fails on
every attempt; what the process writes to stderr is rendered by Darkroom's own logging
set-up, console format, exactly as ``darkroom run`` shows it. Before, each attempt of a
transient error wrote Dramatiq's "Failed to process message <payload> with unhandled
exception" with a rich traceback: hundreds of lines per attempt.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import structlog
from dramatiq.brokers.stub import StubBroker

from jobs.contract.errors import Unavailable
from jobs.contract.settings import Settings
from jobs.runtime.logs import configure_logging
from worker.middleware import DurableRetries
from worker.results import should_retry

MAX_RETRIES = 2
PAYLOAD = {
    "kind": "upload",
    "image_id": "image_abcdefghijklmnopqrstuvwx",
    "account": "acme",
    "job_id": "job-1",
    "source_url": "https://origin.example/" + "payload-marker/" * 40,  # a long payload, as real ones are
}


@pytest.fixture
def console_logs() -> Iterator[Callable[[], list[str]]]:
    """Darkroom's console logging, into a buffer; the previous set-up restored after."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    configure_logging(Settings(log_format="console", log_level="INFO"))
    [handler] = root.handlers
    buffer = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield lambda: [  # the job's lines: not the worker's own start and stop
            line
            for line in buffer.getvalue().splitlines()
            if line.strip() and "[dramatiq.worker.Worker]" not in line
        ]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)
        logging.getLogger("dramatiq.worker.WorkerThread").filters[:] = []  # what DurableRetries adds


def run_failing_job(raise_error: Callable[[], BaseException]) -> None:
    retries = DurableRetries(
        max_retries=MAX_RETRIES, min_backoff=10, max_backoff=20, retry_when=should_retry(MAX_RETRIES)
    )
    broker = StubBroker(middleware=[retries])
    broker.emit_after("process_boot")
    attempts: list[int] = []

    def upload(payload: dict[str, Any]) -> None:
        attempts.append(1)
        raise raise_error()

    actor = dramatiq.actor(upload, broker=broker, actor_name="upload", queue_name="q")
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        actor.send(PAYLOAD)
        broker.join("q", fail_fast=False, timeout=30_000)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    assert len(attempts) == MAX_RETRIES + 1


def events(lines: list[str], name: str) -> list[str]:
    return [line for line in lines if re.search(rf"\] {re.escape(name)}\s", line)]


def test_a_transient_error_is_one_line_per_attempt_and_no_traceback(
    console_logs: Callable[[], list[str]],
) -> None:
    run_failing_job(lambda: Unavailable("Redis is unavailable."))
    lines = console_logs()

    retries = events(lines, "job.retry")
    attempts = [found.group(1) if (found := re.search(r"attempt=(\d+)", line)) else None for line in retries]
    assert attempts == ["1", "2"]
    for line in retries:
        assert "error_code=unavailable" in line and re.search(r"delay_ms=\d+", line), line
        assert "image_id=image_abcdefghijklmnopqrstuvwx" in line and "max_attempts=3" in line
    [gave_up] = events(lines, "job.gave_up")
    assert "attempt=3" in gave_up and "error_code=unavailable" in gave_up
    assert len(lines) == 3, "\n".join(lines)  # nothing else: no traceback, no payload, no Dramatiq lines
    assert not any("payload-marker" in line or "Traceback" in line for line in lines)


def test_an_unexpected_exception_logs_its_traceback_once(console_logs: Callable[[], list[str]]) -> None:
    run_failing_job(lambda: KeyError("width"))
    lines = console_logs()
    text = "\n".join(lines)

    assert len(events(lines, "job.unexpected_error")) == 1, text
    assert text.count("Traceback") == 1 and "KeyError" in text
    assert len(events(lines, "job.retry")) == 2 and len(events(lines, "job.gave_up")) == 1
    assert "error_code=internal" in events(lines, "job.gave_up")[0]
    # (frame locals, which would show the payload, are the console renderer's: off in jobs.runtime.logs)
    assert "Failed to process message" not in text and "Retrying message" not in text
