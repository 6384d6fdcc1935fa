"""memfile: encoders write into a per-thread memfd (no GIL held), and get back exactly their bytes."""

from __future__ import annotations

import io
import os
import threading
from typing import IO

import pytest
from PIL import Image as PILImage

from worker.imaging import memfile
from worker.imaging.encode import encode
from worker.imaging.memfile import KEEP_BYTES, write_to_bytes

needs_memfd = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memfd is Linux-only")


def writes(*parts: bytes) -> bytes:
    def write(fp: IO[bytes]) -> None:
        for part in parts:
            fp.write(part)

    return write_to_bytes(write)


def test_each_output_is_exactly_what_was_written_even_after_a_longer_one() -> None:
    assert writes(b"x" * 100_000) == b"x" * 100_000
    assert writes(b"short", b"er") == b"shorter"  # no stale tail of the previous output
    assert writes() == b""


@needs_memfd
def test_one_reused_memfd_per_thread_emptied_after_a_big_output() -> None:
    writes(b"a")
    file = memfile._local.file
    writes(b"b" * 1000)
    assert memfile._local.file is file  # reused, not reopened
    assert os.fstat(file.fileno()).st_size >= 1000  # its pages stay for the next encode
    assert writes(b"c" * (KEEP_BYTES + 1)) == b"c" * (KEEP_BYTES + 1)
    assert os.fstat(file.fileno()).st_size == 0  # a big one is released at once
    seen: list[object] = []

    def other_thread() -> None:
        writes(b"t")
        seen.append(memfile._local.file)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen and seen[0] is not file


@needs_memfd
def test_a_forked_process_makes_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    writes(b"parent")
    parent_file = memfile._local.file
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as if in a child after fork
    assert writes(b"child") == b"child"
    assert memfile._local.file is not parent_file


def test_without_memfd_it_falls_back_to_bytesio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "memfd_create", raising=False)
    monkeypatch.setattr(memfile._local, "file", None, raising=False)
    assert writes(b"plain", b" bytes") == b"plain bytes"


@pytest.mark.parametrize("fmt", ["jpeg", "png", "gif"])
def test_encoded_bytes_match_an_encode_into_bytesio(fmt: str) -> None:
    image = PILImage.effect_noise((320, 200), 40).convert("RGB")
    image.paste((255, 0, 0), (0, 0, 160, 100))
    encoded = encode(image, fmt)
    decoded = PILImage.open(io.BytesIO(encoded.data))
    assert decoded.format == fmt.upper() and decoded.size == (320, 200)
    red = decoded.convert("RGB").getpixel((40, 40))
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 60 and red[2] < 60
    if fmt == "jpeg":  # the same encoder settings, the same bytes as Pillow into BytesIO
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=82, optimize=True)
        assert encoded.data == buffer.getvalue()
