"""A job that keeps hitting a transient error writes one log line per retry, nothing more.

The real stack (console logs, as ``darkroom run``): an upload from a host that never
resolves is a transient ``source_unreachable`` error, retried twice, then failed. Its worker
log must hold, for that image, its three ``job.start`` lines, one ``job.retry`` line per
retry (error code, attempt, delay), one ``job.gave_up`` and the image's failure — no
traceback and no dump of the payload (before: ~800 lines per attempt).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack

pytestmark = pytest.mark.e2e
UNRESOLVABLE = "http://images.no-such-host.invalid/cat.jpg"  # .invalid never resolves (RFC 6761)
TRACEBACK_MARKERS = ("Traceback", "╭", "│", "Failed to process message", "{'kind'")


def test_a_retried_transient_error_logs_one_line_per_retry(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]
) -> None:
    stack = make_stack(
        fault_settings(
            allow_private_sources=False, max_retries=2, retry_max_backoff_ms=500, log_format="console"
        )
    )
    image = stack.client.upload_url(UNRESOLVABLE)
    failed = stack.client.wait(image.id, timeout=60)
    assert failed.status == Status.FAILED and failed.error is not None
    assert failed.error.code == "source_unreachable"

    log = stack.worker.output()
    mine = [line for line in log.splitlines() if image.id in line]
    retries = [line for line in mine if re.search(r"\] job\.retry\s", line)]
    attempts = [found.group(1) if (found := re.search(r"attempt=(\d+)", line)) else None for line in retries]
    assert attempts == ["1", "2"], log[-3000:]
    for line in retries:
        assert "error_code=source_unreachable" in line and re.search(r"delay_ms=\d+", line), line
    assert len([line for line in mine if re.search(r"\] job\.gave_up\s", line)]) == 1
    assert len([line for line in mine if re.search(r"\] job\.start\s", line)]) == 3
    assert len(mine) <= 8, "\n".join(mine)  # 3 starts, 2 retries, give-up, the image's failure
    dumped = [line for line in log.splitlines() if any(marker in line for marker in TRACEBACK_MARKERS)]
    assert dumped == [], "\n".join(dumped[:40])
