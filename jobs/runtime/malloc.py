"""glibc's allocator, tuned so an image job's buffers are reused by the next job.

Pillow keeps an image's pixels in blocks of up to 16 MB. With glibc's defaults a freed block
goes back to the kernel (``munmap``, or a trim of the heap top), so the next job faults the
same memory in again, page by page: about 6,700 minor faults and 17 ms of kernel time per
12 MP upload, a tenth of the job (``bench/``). :func:`retain_freed_memory` fixes the mmap
threshold above the block size and raises the trim threshold to ``retain_bytes``, so up to that
much freed memory stays in the process for reuse; one malloc arena keeps each thread of a
process from holding its own copy of that peak (the pixel work is a few large allocations,
not a contended stream of small ones). The cost is that a process keeps its high-water mark,
up to ``retain_bytes`` above what it uses: budget it with ``MALLOC_RETAIN_MB``.

A no-op where the C library is not glibc (musl, macOS); ``retain_bytes=0`` keeps the defaults.
Call it at process start-up, before threads begin allocating.

The trim threshold only ever gives back the *top* of the heap. A job's pixel blocks sit in
the one heap every thread allocates from, and while a big job runs, the other threads (the
second job, Redis replies, log records) put small long-lived allocations above them: once
the job is over, its gigabyte is free but below those, so it is never trimmed and stays
resident for good (measured: a worker at 1.9 GB after a failed 2 GB transform, until
restarted; 64 MB with ``MALLOC_RETAIN_MB=0``). :func:`keep_under` is the bound: after each
job a process above its budget (``WORKER_MEMORY_MB``) calls ``malloc_trim``, which returns
every free page, wherever it lies in the heap, to the kernel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from jobs.contract.constants import DEFAULT_RETAIN_MB

M_TRIM_THRESHOLD: Final = -1  # mallopt() parameters, from <malloc.h>
M_MMAP_THRESHOLD: Final = -3
M_ARENA_MAX: Final = -8

MMAP_THRESHOLD_BYTES: Final = 32 * 1024 * 1024  # above Pillow's 16 MB blocks; glibc's own maximum
DEFAULT_RETAIN_BYTES: Final = DEFAULT_RETAIN_MB * 1024 * 1024


def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def retain_freed_memory(retain_bytes: int = DEFAULT_RETAIN_BYTES) -> bool:
    """Tune glibc malloc for reuse (see the module doc). True if the settings took effect.

    Processes pass their ``MALLOC_RETAIN_MB``; the default is that setting's default (the
    benchmarks give their engine runs what a worker process gets)."""
    libc = _glibc() if retain_bytes > 0 else None
    if libc is None:
        return False
    return all(
        libc.mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, min(MMAP_THRESHOLD_BYTES, retain_bytes)),
            (M_TRIM_THRESHOLD, retain_bytes),
            (M_ARENA_MAX, 1),
        )
    )


def resident_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default) from ``/proc``; 0 where there is none."""
    try:
        pages = int(Path(f"/proc/{pid or 'self'}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def release_freed_memory() -> bool:
    """Return every free page of the heap to the kernel (glibc ``malloc_trim``). True if it could."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@dataclass(frozen=True, slots=True)
class Release:
    """What :func:`keep_under` did: resident bytes before and after the trim."""

    before: int
    after: int


def keep_under(budget_bytes: int) -> Release | None:
    """Trim freed memory when this process is resident above ``budget_bytes``; None when under it."""
    before = resident_bytes()
    if before <= budget_bytes or not release_freed_memory():
        return None
    return Release(before, resident_bytes())
