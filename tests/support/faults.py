"""Helpers for fault-injection tests: polling, records and storage as they really are, processes.

Everything here reads the real backing services (Redis, the storage directory or bucket,
``/proc``) rather than asking Darkroom, so a test can check Darkroom's own answers against them.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import redis

from jobs.contract.constants import NAMESPACE, account_images_key, image_key
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from tests.support.images import oriented_jpeg

IMAGE_OBJECT = re.compile(r"^images/(?P<id>[^/]+)/(?P<name>master|small|medium|large)\.[a-z]+$")
ORIGINAL_OBJECT = re.compile(r"^originals/(?P<id>[^/]+)$")
RECORD_OBJECT = re.compile(r"^records/(?P<id>[^/]+)\.json$")
TEMP_FILE = re.compile(r"^(?P<dir>.*/)?\.~[^/]*\.tmp$")  # LocalStorage's staging file of a write
PER_IMAGE = ("original", "record", "master", "small", "medium", "large")


def wait_until(check: Callable[[], bool], what: str, timeout: float, every: float = 0.1) -> float:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` s. Returns the wait."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(every)
    return time.monotonic() - started


def upload_all(base_url: str, count: int, api_key: str = "k1") -> list[str]:
    """``count`` uploads of 800-806 × 600 JPEGs (width = 800 + i % 7) over HTTP; their ids in order."""
    images = [oriented_jpeg(800 + i % 7, 600, orientation=1) for i in range(count)]

    def one(i: int) -> str:
        response = httpx.post(
            f"{base_url}/v1/images/upload",
            headers={"x-api-key": api_key},
            files={"file": (f"photo{i}.jpg", images[i], "image/jpeg")},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


# --- records, straight from Redis --------------------------------------------------------------------


def load_records(redis_url: str, ids: Iterable[str]) -> dict[str, Record | None]:
    client = redis.Redis.from_url(redis_url)
    try:
        ordered = list(ids)
        pipe = client.pipeline(transaction=False)
        for image_id in ordered:
            pipe.hgetall(image_key(image_id))
        rows: list[dict[bytes, bytes]] = pipe.execute()
    finally:
        client.close()
    return {i: Record.from_hash(row) if row else None for i, row in zip(ordered, rows, strict=True)}


def status_counts(redis_url: str, ids: Iterable[str]) -> Counter[str]:
    """How many of ``ids`` are in each status (``missing`` for no record); Redis down → empty."""
    try:
        records = load_records(redis_url, ids)
    except redis.ConnectionError:
        return Counter()
    return Counter(r.status.value if r else "missing" for r in records.values())


def wait_settled(redis_url: str, ids: list[str], timeout: float) -> dict[str, Record | None]:
    """Every image out of ``processing`` (or gone); returns the records."""
    wait_until(
        lambda: bool(status_counts(redis_url, ids)) and status_counts(redis_url, ids)["processing"] == 0,
        f"{len(ids)} images to leave processing",
        timeout,
        every=0.25,
    )
    return load_records(redis_url, ids)


def claimed_messages(redis_url: str) -> int:
    """Messages fetched by some pool and neither acked nor requeued yet (Dramatiq's ack sets)."""
    client = redis.Redis.from_url(redis_url)
    try:
        return sum(int(client.scard(key)) for key in client.scan_iter(f"{NAMESPACE}:__acks__.*"))
    finally:
        client.close()


def account_image_ids(redis_url: str, account: str) -> set[str]:
    """Every image the account's index holds: what a caller can list."""
    client = redis.Redis.from_url(redis_url)
    try:
        members = cast(list[bytes], client.zrange(account_images_key(account), 0, -1))
        return {m.decode() for m in members}
    finally:
        client.close()


# --- storage, listed raw (temp files and foreign keys included) ---------------------------------------


def storage_keys(settings: Settings) -> list[str]:
    if settings.storage_scheme == "file":
        root = settings.local_storage_root
        if not root.exists():
            return []
        # os.walk, not rglob: a worker pruning empty directories mid-listing must not break the scan
        found = [Path(top, name) for top, _dirs, files in os.walk(root) for name in files]
        return sorted(p.relative_to(root).as_posix() for p in found)
    bucket, prefix = settings.s3_bucket_and_prefix
    under = f"{prefix}/" if prefix else ""
    keys: list[str] = []
    for page in _s3(settings).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=under):
        keys += [str(item["Key"])[len(under) :] for item in page.get("Contents", ())]
    return sorted(keys)


def _s3(settings: Settings) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region)


def _owner(key: str) -> tuple[str, str] | None:
    """(image id, which object) for a key of the upload layout, else None."""
    for kind, pattern in (("original", ORIGINAL_OBJECT), ("record", RECORD_OBJECT), ("", IMAGE_OBJECT)):
        match = pattern.match(key)
        if match:
            return match["id"], kind or match["name"]
    return None


def audit_objects(keys: Iterable[str], image_ids: set[str]) -> list[str]:
    """Every way storage differs from "each id owns exactly its objects, nothing else exists".

    An upload owns exactly ``originals/{id}``, ``records/{id}.json`` and
    ``images/{id}/{master,small,medium,large}.{ext}``; anything else is an orphan. The one
    exception is LocalStorage's staging file of a write cut short by SIGKILL (``.~*.tmp``, never
    an object: no key can name it); it must still sit in the directory of one of the images.
    """
    owned: dict[str, Counter[str]] = {i: Counter() for i in image_ids}
    problems: list[str] = []
    for key in keys:
        temp = TEMP_FILE.match(key)
        if temp:
            where = (temp["dir"] or "").rstrip("/")
            if where not in {"originals", "records"} | {f"images/{i}" for i in image_ids}:
                problems.append(f"stray temp file: {key}")
            continue
        owner = _owner(key)
        if owner is None or owner[0] not in owned:
            problems.append(f"orphan: {key}")
        else:
            owned[owner[0]][owner[1]] += 1
    for image_id, counts in sorted(owned.items()):
        problems += [f"{image_id}: {counts[k]} {k} objects" for k in PER_IMAGE if counts[k] != 1]
    return problems


def temp_files(keys: Iterable[str]) -> list[str]:
    return [key for key in keys if TEMP_FILE.match(key)]


# --- processes ---------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


def worker_processes(master_pid: int) -> list[int]:
    """The dramatiq master's worker children (many threads), not its metrics fork (one or two)."""
    return [pid for pid in children(master_pid) if int(proc_status(pid)["Threads"]) > 4]


def peak_rss_mib(pid: int) -> float:
    """``VmHWM``: the most resident memory ``pid`` ever had."""
    return int(proc_status(pid)["VmHWM"].split()[0]) / 1024


def image_status(record: Record | None) -> str:
    return "missing" if record is None else record.status.value


def not_ready(records: dict[str, Record | None]) -> dict[str, str]:
    """The images that did not end ``ready``: id → status and error."""
    return {
        i: f"{image_status(r)} {r.image.error if r else ''}"
        for i, r in records.items()
        if r is None or r.status != Status.READY
    }
