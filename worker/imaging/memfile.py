"""Encoding into memory without holding the GIL: a per-thread memfd instead of ``BytesIO``.

Pillow's block encoders (JPEG, PNG, GIF: ``ImageFile._save``) write through
``encoder.encode_to_file`` with the GIL released when the target has a ``fileno()``. Into a
``BytesIO`` they loop over ``encoder.encode()`` holding it, so two threads encode one after
the other (slower than serial: measured 57 ms for two 6 MP JPEGs against 23 ms for one) and
the worker's event loop stalls for the whole encode. A memfd (Linux) is a file descriptor
on anonymous memory: no disk, no path. Measured: the same speed as ``BytesIO`` for one
encode, two in parallel in 28 ms.

One memfd per thread, reused (its pages are already there for the next encode); after an
output over ``KEEP_BYTES`` it is emptied. A process forked from one that encoded makes its
own. Where memfd does not exist, ``BytesIO``.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from typing import IO, Final

KEEP_BYTES: Final = 8 * 1024 * 1024
_local = threading.local()


def _memfile() -> io.FileIO | None:
    owner: int | None = getattr(_local, "pid", None)
    file: io.FileIO | None = getattr(_local, "file", None)
    if file is None or owner != os.getpid():
        create = getattr(os, "memfd_create", None)
        if create is None:
            return None
        file = io.FileIO(create("darkroom-encode", getattr(os, "MFD_CLOEXEC", 0)), "w+b")
        _local.file, _local.pid = file, os.getpid()
    return file


def write_to_bytes(write: Callable[[IO[bytes]], None]) -> bytes:
    """What ``write(fp)`` writes into ``fp``, as bytes."""
    file = _memfile()
    if file is None:
        buffer = io.BytesIO()
        write(buffer)
        return buffer.getvalue()
    fd = file.fileno()
    file.seek(0)
    write(file)
    size = file.tell()
    chunks = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    if size > KEEP_BYTES:
        os.ftruncate(fd, 0)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
