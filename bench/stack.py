"""A private Darkroom stack for benchmarks: redis-server, the API and worker pools as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.asyncio import Redis as AsyncRedis

from bench.loadgen import LoadGenerator
from jobs.client import Client
from jobs.contract.constants import image_key
from jobs.contract.models import Image
from jobs.contract.settings import Settings
from jobs.plumbing.store import ImageStore
from tests.support.servers import RedisServer, start_redis_server
from tests.support.stack import Proc, start_api, start_worker, with_free_http_port

KEY = "bench-key"


@dataclass
class Stack:
    settings: Settings
    base_url: str
    redis: RedisServer
    api: Proc
    workdir: Path
    workers: list[Proc] = field(default_factory=list)

    def client(self) -> Client:
        return Client(self.base_url, KEY, timeout=120)

    @property
    def redis_pid(self) -> int:
        assert self.redis.proc is not None
        return self.redis.proc.pid

    def loadgen(self) -> LoadGenerator:
        return LoadGenerator(self.base_url, KEY)

    def start_workers(self, processes: int, threads: int | None = None, name: str = "worker") -> list[int]:
        """A pool of ``processes`` worker processes, once they consume; returns their PIDs.
        ``threads=None``: the CLI's default (what a deployment gets)."""
        args = ("--processes", str(processes)) + (("--threads", str(threads)) if threads else ())
        proc = start_worker(self.settings, self.workdir, *args, name=f"{name}-{len(self.workers)}")
        self.workers.append(proc)
        deadline = time.monotonic() + 60
        while len(children := worker_children(proc)) < processes and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_for_workers(self.settings.redis_url, processes)
        return children

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.stop()
        self.workers.clear()

    @staticmethod
    def unsettled(ids: list[str], client: redis.Redis) -> list[str]:
        """Those of ``ids`` still processing (one pipelined read, off the API)."""
        with client.pipeline(transaction=False) as pipe:
            for image_id in ids:
                pipe.hget(image_key(image_id), "status")
            statuses = pipe.execute()
        return [i for i, s in zip(ids, statuses, strict=True) if s not in (b"ready", b"failed")]

    def wait_settled(self, ids: list[str], timeout: float) -> None:
        """Until every one of ``ids`` is ready or failed, polling only those still processing:
        the harness's own load on the shared cores stays small."""
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.settings.redis_url)
        try:
            pending = ids
            while pending and time.monotonic() < deadline:
                pending = self.unsettled(pending[-1:], client)  # the newest first: usually last done
                if not pending:
                    pending = self.unsettled(ids, client)
                if pending:
                    time.sleep(0.1)
        finally:
            client.close()

    def images(self, ids: list[str]) -> list[Image]:
        async def load() -> list[Image]:
            client = AsyncRedis.from_url(self.settings.redis_url)
            try:
                records = await ImageStore(client).load_many(ids)
            finally:
                await client.aclose()
            return [r.image for r in records if r is not None]

        return asyncio.run(load())

    def flush_images(self) -> None:
        client = redis.Redis.from_url(self.settings.redis_url)
        client.flushdb()
        client.close()


def wait_for_workers(redis_url: str, processes: int, timeout: float = 60.0) -> None:
    """Until ``processes`` fresh Dramatiq workers have heartbeated (they are consuming)."""
    client = redis.Redis.from_url(redis_url)
    client.delete("darkroom:__heartbeats__")  # forget stopped pools
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.zcard("darkroom:__heartbeats__") >= processes:
            break
        time.sleep(0.05)
    client.close()


def worker_children(proc: Proc) -> list[int]:
    """PIDs of the worker processes a dramatiq master forked (the ones doing the work)."""
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == proc.pid and b"worker" in cmdline:
            pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time the processes ``pids`` have used so far (all their threads)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, field_name: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


@contextmanager
def bench_stack(root: Path | None = None, **overrides: object) -> Iterator[Stack]:
    """``root``: make the work directory under it and leave it there (the caller removes the
    whole tree once the run is over); None: a temporary directory removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="darkroom-bench-", dir=root))
    server = start_redis_server()
    values: dict[str, object] = {
        "redis_url": server.url,
        "storage_url": f"file://{workdir / 'data'}",
        "api_keys": {KEY: "bench"},
        "signing_key": "bench",
        "webhook_secret": "bench",
        "rate_limit_per_second": 0,
        "log_level": "WARNING",
        "max_pixels": 60_000_000,
        "max_input_bytes": 64 * 1024 * 1024,
        "metrics_port": 0,
    }
    values.update(overrides)
    settings = with_free_http_port(Settings(**values))  # type: ignore[arg-type]
    api, base_url = start_api(settings, workdir)
    stack = Stack(settings, base_url, server, api, workdir)
    try:
        yield stack
    finally:
        stack.stop_workers()
        api.stop()
        server.stop()
        if root is None:
            shutil.rmtree(workdir, ignore_errors=True)  # a full run stages gigabytes of images


def settings_json(settings: Settings) -> str:
    keep = ("job_time_limit", "max_retries", "heartbeat_timeout_ms", "max_pixels")
    return json.dumps({k: getattr(settings, k) for k in keep})
