"""A worker process's memory, measured from ``/proc``: bounded while hostile jobs run, and back
under ``WORKER_MEMORY_MB`` after every job, failed or successful."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from PIL import Image as PILImage

from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.faults import peak_rss_mib, proc_status, worker_processes

pytestmark = pytest.mark.e2e

BUDGET_MIB = Settings().worker_memory_mb  # the documented default
FRAMES = 10


def ten_frame_gif() -> bytes:
    frames = [PILImage.new("RGB", (16, 16), (i * 20, 0, 0)) for i in range(FRAMES)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (0, 0, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def rss_mib(pid: int) -> float:
    return int(proc_status(pid)["VmRSS"].split()[0]) / 1024


def the_worker_process(stack: Stack) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = worker_processes(stack.worker.pid)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no worker process:\n{stack.worker.output()[-4000:]}")


def settles_under(pid: int, budget_mib: float, timeout: float = 15.0) -> float:
    """The process's RSS once it is under ``budget_mib`` (the job's after-hook runs just after its
    image settles), or its last RSS when that never happens within ``timeout``."""
    deadline = time.monotonic() + timeout
    rss = rss_mib(pid)
    while rss >= budget_mib and time.monotonic() < deadline:
        time.sleep(0.2)
        rss = rss_mib(pid)
    return rss


def settled(stack: Stack, image: Image) -> Image:
    return stack.client.wait(image.id, timeout=180)


def resize_then_fail(size: int) -> list[dict[str, object]]:
    """Resize every frame to ``size`` x ``size``, then an op that fails (after the allocation)."""
    return [
        {"op": "resize", "width": size, "height": size, "fit": "fill", "enlarge": True},
        {"op": "crop", "x": size + 1, "y": 0, "width": 5, "height": 5},
    ]


def test_the_reviews_hostile_jobs_fail_fast_within_the_budget(
    make_stack: Callable[[Settings], Stack], make_settings: Callable[..., Settings]
) -> None:
    stack = make_stack(make_settings(retry_min_backoff_ms=50, retry_max_backoff_ms=100, metrics_port=0))
    client = stack.client
    pid = the_worker_process(stack)
    gif = settled(stack, client.upload(ten_frame_gif()))
    small = settled(stack, client.upload(png((64, 64))))
    assert gif.status == small.status == Status.READY

    # item 1: 10 frames x 7000x7000 (2 GB of pixels), then an op that fails
    frames = settled(stack, client.transform(gif.id, resize_then_fail(7000)))
    assert frames.status == Status.FAILED and frames.error is not None
    assert frames.error.code == "too_large", frames.error
    # item 2: a text layer of ~2 GB before Pillow's own bomb check: now drawn at the size shown
    text = [{"op": "watermark", "text": "W" * 200, "font_size": 2000}]
    marked = settled(stack, client.transform(small.id, text))
    assert marked.status == Status.READY, marked.error

    assert peak_rss_mib(pid) < BUDGET_MIB
    assert settles_under(pid, BUDGET_MIB) < BUDGET_MIB
    lines = stack.worker.output().splitlines()
    starts = [line for line in lines if "job.start" in line and frames.id in line]
    assert len(starts) == 1, starts  # one attempt: too_large is permanent, never retried


def test_memory_comes_back_after_big_jobs_within_the_budget(
    make_stack: Callable[[Settings], Stack], make_settings: Callable[..., Settings]
) -> None:
    """Jobs that legitimately use more than the worker's budget while they run (a bigger
    IMAGING_MEMORY_MB allows them): afterwards the process is back under WORKER_MEMORY_MB."""
    stack = make_stack(make_settings(imaging_memory_mb=2048, metrics_port=0))
    client = stack.client
    pid = the_worker_process(stack)
    gif = settled(stack, client.upload(ten_frame_gif()))
    small = settled(stack, client.upload(png((64, 64))))

    for _ in range(2):  # 10 x 5000x5000: 1 GB of pixels, then the crop fails
        failed = settled(stack, client.transform(gif.id, resize_then_fail(5000)))
        assert failed.status == Status.FAILED and failed.error is not None
        assert failed.error.code == "invalid_request", failed.error
        assert peak_rss_mib(pid) > BUDGET_MIB  # it really held more than the budget...
        assert settles_under(pid, BUDGET_MIB) < BUDGET_MIB  # ...and gave it back

    big = [{"op": "resize", "width": 7000, "height": 7000, "fit": "fill", "enlarge": True}]
    done = settled(stack, client.transform(small.id, big))
    assert done.status == Status.READY, done.error
    assert (done.width, done.height) == (7000, 7000)
    assert settles_under(pid, BUDGET_MIB) < BUDGET_MIB
