"""Where a job's parallel pieces run: a small thread pool, or inline.

Pillow releases the GIL while decoding, resampling and encoding WebP/AVIF, so one job can
use two cores (master ∥ sizes, resizes in two strips). That lowers a single job's latency;
when a worker pool already keeps every core busy with whole jobs, ``threads=1`` runs the
same steps inline instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs each submitted call at once, in the caller's thread."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def is_parallel(pool: Executor | None) -> bool:
    return pool is not None and not isinstance(pool, InlineExecutor)


@contextmanager
def job_pool(threads: int) -> Iterator[Executor]:
    if threads <= 1:
        yield InlineExecutor()
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="darkroom-imaging") as pool:
        yield pool


__all__ = ["InlineExecutor", "is_parallel", "job_pool"]
