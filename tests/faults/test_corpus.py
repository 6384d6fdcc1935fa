"""Every file of the bad-input corpus ends in its defined state, in one run of one worker process.

Each file is uploaded through the API as a client would. Two never reach a worker: the API
refuses the empty file (400 ``invalid_request``) and the one over ``MAX_INPUT_BYTES``
(413 ``too_large``). Every other upload is accepted and ends as ``tests/corpus/manifest``
says: ``ready`` with the expected size after EXIF orientation, or ``failed`` with the expected
error code. The worker process that started is the one that finishes — none crashed and was
replaced — it serves a good job afterwards, and its peak RSS (``VmHWM``) stays bounded, with
two valid images at the pixel limit (7071 × 7071 ≈ 50 MP, decoded at once by its two
threads) thrown in with the corpus.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image as PILImage

from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from tests.corpus.generate import build
from tests.corpus.manifest import CASES, CorpusCase
from tests.support.e2e import Stack
from tests.support.faults import peak_rss_mib, wait_settled, wait_until, worker_processes
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e
REFUSED_BY_THE_API = {"empty.jpg": (400, "invalid_request"), "over_max_input_bytes.jpg": (413, "too_large")}
MAX_PEAK_RSS_MIB = 600
SIDE = 7071  # 7071² = 49 999 041 pixels, just under MAX_PIXELS


def upload(base_url: str, filename: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/images/upload",
        headers={"x-api-key": "k1"},
        files={"file": (filename, data, "application/octet-stream")},
        timeout=60,
    )


def largest_allowed_png() -> bytes:
    buf = io.BytesIO()
    PILImage.linear_gradient("L").resize((SIDE, SIDE)).convert("RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def outcome(record: Record | None) -> tuple[str, object, object]:
    if record is None:
        return ("missing", None, None)
    if record.status == Status.READY:
        return ("ready", record.image.width, record.image.height)
    return (record.status.value, record.image.error.code if record.image.error else None, None)


def expected(case: CorpusCase) -> tuple[str, object, object]:
    if case.expect == "ready":
        return ("ready", case.width, case.height)
    return ("failed", case.error_code, None)


def test_every_corpus_file_ends_defined_and_the_worker_survives_them_all(
    make_stack: Callable[..., Stack], fault_settings: Callable[..., Settings]
) -> None:
    stack = make_stack(fault_settings())
    wait_until(lambda: len(worker_processes(stack.worker.pid)) == 1, "the worker process", 30)
    [worker] = worker_processes(stack.worker.pid)

    big = largest_allowed_png()
    with ThreadPoolExecutor(max_workers=4) as pool:
        bigs = [pool.submit(upload, stack.base_url, f"big{n}.png", big) for n in range(2)]
        answers = dict(
            zip(CASES, pool.map(lambda c: upload(stack.base_url, c.filename, build(c)), CASES), strict=True)
        )
        big_ids = [str(b.result().json()["id"]) for b in bigs]
    refused = {
        c.filename: (r.status_code, r.json()["error"]) for c, r in answers.items() if r.status_code != 202
    }
    assert refused == REFUSED_BY_THE_API
    accepted = {c: str(r.json()["id"]) for c, r in answers.items() if r.status_code == 202}
    records = wait_settled(stack.settings.redis_url, [*accepted.values(), *big_ids], timeout=120)

    got = {c.filename: outcome(records[i]) for c, i in accepted.items()}
    assert got == {c.filename: expected(c) for c in accepted}
    assert all(r.image.error.message for r in records.values() if r and r.image.error)
    assert {outcome(records[i]) for i in big_ids} == {("ready", SIDE, SIDE)}

    good = stack.client.upload(oriented_jpeg(64, 48, 1))
    assert stack.client.wait(good.id, timeout=30).status == Status.READY
    assert stack.worker.alive() and worker_processes(stack.worker.pid) == [worker], "a worker process died"
    peak = peak_rss_mib(worker)
    print(f"{len(CASES)} corpus files, {len(accepted)} processed, 2 × 50 MP; worker peak RSS {peak:.0f} MiB")
    assert peak < MAX_PEAK_RSS_MIB
