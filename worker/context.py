"""The worker's ``ctx``: clients created once on Dramatiq's event loop, closed at shutdown.

Like arq's ``ctx``: a small explicit bundle handed to every pipeline function: the
:class:`jobs.plumbing.backends.Backends` every process opens, plus the worker's own HTTP client, CDN
purger, imaging limits and threads. :mod:`worker.app` opens it once the event loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import dramatiq
import httpx

from jobs.contract.settings import Settings
from jobs.plumbing.backends import Backends, OnBackends, WrapStorage
from worker.cdn import Purger, make_purger
from worker.imaging.types import Limits

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(slots=True)
class WorkerContext(OnBackends):
    backends: Backends
    http: httpx.AsyncClient
    purger: Purger
    limits: Limits
    # IMAGING_CONCURRENCY threads: a job images on one of them, and does its I/O outside
    imaging_pool: ThreadPoolExecutor = field(default_factory=lambda: imaging_threads(1))
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Set when the pool tears the ctx down after its grace period: every job still running
    # was requeued (RequeueOnShutdown), so what it does from now on must not count.
    closing: bool = False

    @classmethod
    async def open(
        cls, settings: Settings, broker: dramatiq.Broker, *, wrap_storage: WrapStorage | None = None
    ) -> WorkerContext:
        """Open the backends (enqueueing through the worker's ``broker``; ``wrap_storage`` wraps
        the storage before the store is built on it), then the worker's own clients."""
        backends = await Backends.open(settings, broker=broker, wrap_storage=wrap_storage)
        return cls.around(backends)

    @classmethod
    def around(cls, backends: Backends, *, purger: Purger | None = None) -> WorkerContext:
        """The worker's clients around open ``backends`` (``purger``: instead of the configured one)."""
        settings = backends.settings
        http = httpx.AsyncClient(timeout=settings.fetch_timeout, follow_redirects=False)
        return cls(
            backends=backends,
            http=http,
            purger=purger if purger is not None else make_purger(settings, http),
            limits=Limits(
                max_pixels=settings.max_pixels,
                max_frames=settings.max_frames,
                max_input_bytes=settings.max_input_bytes,
                max_memory=settings.imaging_memory_mb * 1024 * 1024,
            ),
            imaging_pool=imaging_threads(settings.imaging_concurrency),
        )

    async def imaging(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a pure imaging call off the event loop, on one of the process's imaging threads.

        With ``--threads 2`` and one imaging thread, a process keeps one core busy imaging
        while its second job reads its input or writes its outputs, instead of idling through
        them. Calls queue on the threads themselves: one that finishes takes the next queued
        call at once, without a round through the event loop (that hand-off idled the thread
        3 % of the time). A call cancelled while still queued never runs.
        """
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.imaging_pool, call)

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.imaging_pool.shutdown(wait=False, cancel_futures=True)
        await self.http.aclose()
        await self.backends.close()


def imaging_threads(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(count, thread_name_prefix="darkroom-imaging")


_current: WorkerContext | None = None


def set_current(ctx: WorkerContext | None) -> None:
    global _current
    _current = ctx


def current() -> WorkerContext:
    if _current is None:
        raise RuntimeError("worker context is not open (was the broker built by worker.app?)")
    return _current
