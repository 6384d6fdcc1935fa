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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from typing import Final

M_TRIM_THRESHOLD: Final = -1  # mallopt() parameters, from <malloc.h>
M_MMAP_THRESHOLD: Final = -3
M_ARENA_MAX: Final = -8

MMAP_THRESHOLD_BYTES: Final = 32 * 1024 * 1024  # above Pillow's 16 MB blocks; glibc's own maximum
DEFAULT_RETAIN_MB: Final = 256  # the MALLOC_RETAIN_MB setting's default
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
