"""The whole system, measured: HTTP → Redis → Dramatiq worker → storage, against the pure engine.

    python -m bench.system           # full run (numbers for bench/RESULTS.md)
    python -m bench.system --quick   # CI smoke: same code paths, small counts

1. throughput — N uploads through the HTTP API with P worker processes, images/s from the
   server's own timestamps (first ``created_at`` → last ``updated_at``), against the pure
   engine (``process_upload`` in P processes, one thread each like a worker, same inputs) run
   in this same process just before and just after; queue overhead = 1 − system/engine.
   Five such rounds (engine, system, engine, … system, engine): this VM's speed drifts by
   ±10 % within seconds, so one round's overhead is ±4 %; the median round is reported, and
   every round's overhead with it, and where that round's CPU went, per image (``cpu_ms_*``:
   worker processes, API, redis-server, and this process: load generator and polling).
2. latency — enqueue → ``ready`` (``updated_at − created_at``) of a 256 px image, p50/p95/p99,
   idle and under a steady backlog of 1 MP uploads.
3. scaling — a pre-enqueued backlog drained by 1 and by 2 worker processes (1, 2, 2, 1 twice).
4. memory — peak RSS of a worker process on a 50 MP input; RSS growth over many jobs.
Never asserts anything: it prints (and ``bench.run`` writes ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.stack import Stack, bench_stack, cpu_seconds, memory_kib
from bench.variants import input_jpeg, photo_like
from jobs.contract.models import Image
from jobs.runtime.malloc import retain_freed_memory
from worker.imaging import Limits, process_upload

LIMITS = Limits(max_pixels=60_000_000, max_frames=100, max_input_bytes=64 * 1024 * 1024)
Result = dict[str, Any]


def _engine_one(data: bytes) -> int:
    return len(process_upload(data, LIMITS, threads=1).master.data)  # as a worker runs it (1 thread)


def engine_rate(inputs: list[bytes], processes: int) -> float:
    """images/s of the pure engine over ``inputs`` with ``processes`` processes (after a warm-up),
    each with the allocator a worker process sets up (``MALLOC_RETAIN_MB``'s default)."""
    with ProcessPoolExecutor(processes, initializer=retain_freed_memory) as pool:
        list(pool.map(_engine_one, inputs[:processes]))
        started = time.perf_counter()
        list(pool.map(_engine_one, inputs))
        return len(inputs) / (time.perf_counter() - started)


def upload_all(stack: Stack, inputs: Iterable[bytes], concurrency: int = 8) -> list[str]:
    """Raw-body uploads from ``concurrency`` threads, through a lean load generator (``bench.loadgen``)."""
    return stack.loadgen().upload_all(inputs, concurrency)


def wait_all(stack: Stack, ids: list[str], timeout: float = 1800) -> list[Image]:
    """Wait until every image is ready or failed (polled in Redis, off the API), then read the records."""
    stack.wait_settled(ids, timeout)
    images = stack.images(ids)
    failed = [i for i in images if i.status != "ready"]
    if failed:
        raise RuntimeError(f"{len(failed)} images did not end ready: {failed[0].error}")
    return images


def span_rate(images: list[Image]) -> float:
    start = min(i.created_at for i in images)
    end = max(i.updated_at for i in images)
    return len(images) / (end - start).total_seconds()


def throughput(stack: Stack, inputs: list[bytes], processes: int, rounds: int = 5) -> Result:
    """``rounds`` runs of the system, each between two runs of the engine: a VM that drifts in
    speed moves a round's two neighbours with it, and the round is compared with their mean.
    The figures are the median round's (``rounds`` lists every round's overhead)."""
    engine = [engine_rate(inputs, processes)]
    system: list[float] = []
    cpu: list[dict[str, float]] = []
    for _ in range(rounds):
        workers = stack.start_workers(processes)
        parts = {"workers": workers, "api": [stack.api.pid], "redis": [stack.redis_pid]}
        before = {name: cpu_seconds(pids) for name, pids in parts.items()}
        client_before = time.process_time()
        system.append(span_rate(wait_all(stack, upload_all(stack, inputs))))
        spent = {name: cpu_seconds(pids) - before[name] for name, pids in parts.items()}
        spent["client"] = time.process_time() - client_before  # this process: load generator, polling
        cpu.append({name: seconds * 1000 / len(inputs) for name, seconds in spent.items()})
        stack.stop_workers()
        engine.append(engine_rate(inputs, processes))
    overheads = [1 - rate / ((a + b) / 2) for rate, a, b in zip(system, engine, engine[1:], strict=False)]
    median = sorted(range(rounds), key=overheads.__getitem__)[rounds // 2]
    return {"n": len(inputs), "system": system[median], "engine": (engine[median] + engine[median + 1]) / 2,
            "engine_drift": max(engine) / min(engine) - 1, "overhead": overheads[median],
            "rounds": "/".join(f"{o:.3f}" for o in overheads),
            **{f"cpu_ms_{name}": ms for name, ms in cpu[median].items()}}  # fmt: skip


def latencies(images: list[Image]) -> Result:
    ms = sorted((i.updated_at - i.created_at).total_seconds() * 1000 for i in images)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "p50": q[49], "p95": q[94], "p99": q[98]}


def latency(stack: Stack, samples: int, backlog: list[bytes] | None) -> Result:
    tiny = photo_and_encode(256, 192)
    stack.start_workers(2)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(stack, backlog, stop), daemon=True) if backlog else None
    if feeder:
        feeder.start()
        time.sleep(1.0)
    ids = []
    with stack.client() as client:
        for _ in range(samples):
            ids.append(client.upload(tiny, filename="t.jpg").id)
            client.wait(ids[-1], timeout=60)
            time.sleep(0.05)  # idle gaps between requests: each one finds the pool waiting
    stop.set()
    if feeder:
        feeder.join()
    result = latencies(wait_all(stack, ids))
    stack.stop_workers()
    return result


def _feed(stack: Stack, backlog: list[bytes], stop: threading.Event) -> None:
    """A steady backlog: keep ~4 1 MP uploads queued ahead of the workers."""
    with stack.client() as client:
        pending: list[str] = []
        while not stop.is_set():
            pending = [i for i in pending if client.get(i).status == "processing"]
            while len(pending) < 4:
                pending.append(client.upload(backlog[len(pending) % len(backlog)], filename="f.jpg").id)
            time.sleep(0.02)


def drain_rate(images: list[Image]) -> float:
    """Completions per second between the first and the last ``ready`` (start-up excluded)."""
    done = sorted(i.updated_at for i in images)
    return (len(done) - 1) / (done[-1] - done[0]).total_seconds()


SCALING_ORDER = (1, 2, 2, 1, 1, 2, 2, 1)


def scaling(
    stack: Stack, inputs: list[bytes], threads: int | None = None, order: tuple[int, ...] = SCALING_ORDER
) -> Result:
    """A backlog drained by 1 and by 2 worker processes (``threads`` each; None: the default),
    in the order 1, 2, 2, 1, 1, 2, 2, 1: a VM drifting in speed moves both means alike, and
    four drains of each average out its jitter. ``cores_*``: CPU cores the worker processes
    kept busy (a process whose second thread does I/O while the first images uses more than
    one core, which bounds ``ratio`` at 2 / ``cores_one``); ``cpu_ms_*``: their CPU per image.
    ``ratio`` ≈ (``cores_two`` / ``cores_one``) × (``cpu_ms_one`` / ``cpu_ms_two``): the cores
    a second process adds, times what each image costs when two share the machine."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}  # CPU the worker processes used while draining
    cpu_ms: dict[int, list[float]] = {1: [], 2: []}  # ... per image
    for processes in order:
        stack.flush_images()
        ids = upload_all(stack, inputs)  # the backlog first, no worker running
        pids = stack.start_workers(processes, threads=threads)
        before, started = cpu_seconds(pids), time.monotonic()
        rates[processes].append(drain_rate(wait_all(stack, ids)))
        used = cpu_seconds(pids) - before
        cores[processes].append(used / (time.monotonic() - started))
        cpu_ms[processes].append(1000 * used / len(ids))
        stack.stop_workers()
    one, two = statistics.mean(rates[1]), statistics.mean(rates[2])
    return {"n": len(inputs), "one": one, "two": two, "ratio": two / one,
            "cores_one": statistics.mean(cores[1]), "cores_two": statistics.mean(cores[2]),
            "cpu_ms_one": statistics.mean(cpu_ms[1]), "cpu_ms_two": statistics.mean(cpu_ms[2])}  # fmt: skip


def memory(stack: Stack, big: bytes, small: list[bytes], jobs: int) -> Result:
    child = stack.start_workers(1, threads=2)[0]
    wait_all(stack, upload_all(stack, [big], concurrency=1))
    peak_50mp = memory_kib(child, "VmHWM") / 1024
    warm = max(10, jobs // 10)
    wait_all(stack, upload_all(stack, small[:1] * warm))
    rss_warm = memory_kib(child, "VmRSS") / 1024
    wait_all(stack, upload_all(stack, small[:1] * (jobs - warm)))
    rss_end = memory_kib(child, "VmRSS") / 1024
    stack.stop_workers()
    return {"peak_50mp_mb": peak_50mp, "rss_warm_mb": rss_warm, "rss_end_mb": rss_end, "jobs": jobs,
            "growth": rss_end / rss_warm - 1}  # fmt: skip


def photo_and_encode(width: int, height: int, seed: int = 3) -> bytes:
    import io

    buf = io.BytesIO()
    photo_like(width, height, seed).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def run(quick: bool, report: Callable[[str, Result], None]) -> None:
    small = [photo_and_encode(1154, 866, seed) for seed in range(8)]
    large = [input_jpeg(12)]
    counts = {"small": 40, "large": 4, "latency": 40, "scale": 60, "jobs": 100, "rounds": 1} if quick else \
        {"small": 500, "large": 50, "latency": 200, "scale": 200, "jobs": 1000, "rounds": 5}  # fmt: skip
    backlog = [small[i % 8] for i in range(counts["scale"])]
    # Every stack's files stay until the end: deleting thousands of them between two stacks
    # taxes the next one's file creations (ext4 without a journal scans past inodes deleted
    # in the last 30 s), which is the previous benchmark's cleanup, not this one's work.
    root = Path(tempfile.mkdtemp(prefix="darkroom-bench-run-"))
    try:
        with bench_stack(root) as stack:
            small_run = [small[i % 8] for i in range(counts["small"])]
            report("throughput 1 MP", throughput(stack, small_run, 2, counts["rounds"]))
        with bench_stack(root) as stack:
            report("throughput 12 MP", throughput(stack, large * counts["large"], 2, counts["rounds"]))
        with bench_stack(root) as stack:
            report("latency idle", latency(stack, counts["latency"], None))
            report("latency backlog", latency(stack, counts["latency"] // 2, small))
        with bench_stack(root) as stack:  # defaults: 2 worker threads, 1 imaging thread
            report("scaling 1 MP", scaling(stack, backlog))
            report("scaling 12 MP", scaling(stack, large * (counts["large"] // 2 + 2)))
            report("scaling 1 MP, --threads 1", scaling(stack, backlog, threads=1))  # for contrast
        with bench_stack(root) as stack:
            report("memory", memory(stack, input_jpeg(50), small, counts["jobs"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)  # a full run stages gigabytes of images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    def report(name: str, result: Result) -> None:
        cells = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
        print(f"{name:28s} {cells}", flush=True)

    run(args.quick, report)


if __name__ == "__main__":
    main()
