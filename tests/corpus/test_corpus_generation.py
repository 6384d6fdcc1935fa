"""The corpus generator: files exist, are deterministic and small, and really are what the manifest says."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from PIL import Image as PILImage
from PIL import ImageFile, ImageOps, UnidentifiedImageError

from tests.corpus import generate
from tests.corpus import manifest as m
from tests.corpus.manifest import CASES, CorpusCase
from tests.support.images import rgb

pillow_heif.register_heif_opener()

EAGER = [case for case in CASES if not case.lazy]
LAZY = [case for case in CASES if case.lazy]


def cases(expect: str, code: str | None = None) -> list[Any]:
    """The matching cases as pytest params, id'd by filename."""
    selected = [c for c in CASES if c.expect == expect and (code is None or c.error_code == code)]
    return [pytest.param(case, id=case.filename) for case in selected]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    outdir = tmp_path_factory.mktemp("corpus")
    return {path.name: path.read_bytes() for path in generate.build_all(outdir)}


def data_of(case: CorpusCase, corpus: dict[str, bytes]) -> bytes:
    return generate.build(case) if case.lazy else corpus[case.filename]


# --- header parsing, no decoding: what the worker's pre-decode checks must see ---------------------


def _gif_frames(data: bytes) -> int:
    pos, frames = 13, 0
    if data[10] & 0x80:
        pos += 3 << ((data[10] & 7) + 1)
    while data[pos] != 0x3B:
        if data[pos] == 0x2C:
            frames += 1
            flags, pos = data[pos + 9], pos + 10
            pos += (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # local colour table, LZW size
        else:  # extension: introducer, label
            pos += 2
        while data[pos]:  # data sub-blocks
            pos += data[pos] + 1
        pos += 1
    return frames


def declared(data: bytes) -> tuple[int, int, int]:
    """(width, height, frames) read from the header alone."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        assert data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        actl = data.find(b"acTL")
        return width, height, struct.unpack(">I", data[actl + 4 : actl + 8])[0] if actl > 0 else 1
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while data[pos + 1] not in (0xC0, 0xC1, 0xC2):
            pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
        return width, height, 1
    if data.startswith((b"GIF87a", b"GIF89a")):
        return *struct.unpack("<HH", data[6:10]), _gif_frames(data)
    if data.startswith(b"BM"):
        width, height = struct.unpack("<ii", data[18:26])
        return width, abs(height), 1
    raise AssertionError("no header parser for this format")


HEADER_CLAIMS = {
    "bomb_20000x20000.png": (20000, 20000, 1),
    "just_over_max_pixels.png": (10000, 5001, 1),
    "bomb_sof_65000x65000.jpg": (65000, 65000, 1),
    "bomb_30000x30000.bmp": (30000, 30000, 1),
    "screen_65535x65535.gif": (65535, 65535, 1),
    "frames_10000.gif": (1, 1, 10000),
    "frames_101.gif": (1, 1, 101),
    "frames_100.gif": (1, 1, 100),
    "apng_101_frames.png": (4, 4, 101),
    "animated_5_frames.gif": (64, 48, 5),
}


@pytest.mark.parametrize("filename", HEADER_CLAIMS)
def test_header_declares_claimed_size(
    filename: str, corpus: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = corpus[filename]
    width, height, frames = HEADER_CLAIMS[filename]
    assert declared(data) == (width, height, frames)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", None)  # Pillow's lazy open agrees, nothing decoded
    with PILImage.open(io.BytesIO(data)) as img:
        assert (img.size, getattr(img, "n_frames", 1)) == ((width, height), frames)


@pytest.mark.parametrize("case", cases("failed", m.TOO_LARGE))
def test_too_large_cases_exceed_a_limit(case: CorpusCase, corpus: dict[str, bytes]) -> None:
    data = data_of(case, corpus)
    width, height, frames = declared(data)
    assert width * height > m.MAX_PIXELS or frames > m.MAX_FRAMES or len(data) > m.MAX_INPUT_BYTES


@pytest.mark.parametrize("case", cases("ready"))
def test_ready_cases_are_within_limits(case: CorpusCase, corpus: dict[str, bytes]) -> None:
    data = data_of(case, corpus)
    assert len(data) <= m.MAX_INPUT_BYTES
    if data.startswith((b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM")):
        width, height, frames = declared(data)
        assert width * height <= m.MAX_PIXELS
        assert frames <= m.MAX_FRAMES


# --- the manifest and the generator ------------------------------------------------------------------


def test_manifest_is_consistent() -> None:
    assert len(m.CASES_BY_NAME) == len(CASES), "duplicate filenames"
    assert {c.error_code for c in CASES if c.expect == "failed"} == m.ERROR_CODES
    assert all("." in c.filename and c.description for c in CASES)
    assert {c.filename for c in LAZY} == {"over_max_input_bytes.jpg", "exactly_max_input_bytes.jpg"}


@pytest.mark.parametrize(
    ("expect", "code", "width"),
    [("ready", "too_large", 10), ("failed", None, None), ("failed", "nope", None)],
)
def test_manifest_rejects_inconsistent_cases(expect: str, code: str | None, width: int | None) -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        CorpusCase("x.png", expect, code, width, width, "bad", generator=lambda: b"")  # type: ignore[arg-type]


def test_build_all_writes_every_eager_case_deterministically_and_fast(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    started = time.perf_counter()
    paths = generate.build_all(tmp_path)
    assert time.perf_counter() - started < 10
    assert [p.name for p in paths] == [c.filename for c in EAGER]
    assert all(p.read_bytes() == corpus[p.name] for p in paths)
    assert all(generate.build(case) == generate.build(case) for case in LAZY)


def test_files_stay_small(corpus: dict[str, bytes]) -> None:
    assert len(corpus["bomb_20000x20000.png"]) < 100_000
    assert len(corpus["frames_10000.gif"]) < 1_000_000
    assert sum(map(len, corpus.values())) < 2_000_000
    assert [len(generate.build(case)) for case in LAZY] == [m.MAX_INPUT_BYTES + 1, m.MAX_INPUT_BYTES]


def test_script_runs_from_anywhere(tmp_path: Path) -> None:
    script = Path(generate.__file__)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([c.filename for c in EAGER])


# --- what Pillow makes of them -------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("case", cases("ready"))
def test_ready_cases_decode_to_declared_size(case: CorpusCase, corpus: dict[str, bytes]) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with PILImage.open(io.BytesIO(data_of(case, corpus))) as img:
        img.load()
        assert ImageOps.exif_transpose(img).size == (case.width, case.height)


@pytest.mark.parametrize("case", cases("failed", m.MEDIA_FAILED))
def test_media_failed_cases_do_not_decode(case: CorpusCase, corpus: dict[str, bytes]) -> None:
    # UnidentifiedImageError (an OSError) at open, or OSError("image file is truncated") at load
    with pytest.raises(OSError), PILImage.open(io.BytesIO(corpus[case.filename])) as img:
        img.load()


@pytest.mark.parametrize(
    ("filename", "fmt"), [("truncated_60pct.jpg", "JPEG"), ("truncated_mid_idat.png", "PNG")]
)
def test_truncated_files_open_lazily_and_fail_on_load(
    filename: str, fmt: str, corpus: dict[str, bytes]
) -> None:
    img = PILImage.open(io.BytesIO(corpus[filename]))
    assert img.format == fmt
    with pytest.raises(OSError, match="truncated"):
        img.load()


@pytest.mark.parametrize("case", cases("failed", m.UNSUPPORTED))
def test_unsupported_cases_are_documents_pillow_cannot_identify(
    case: CorpusCase, corpus: dict[str, bytes]
) -> None:
    data = corpus[case.filename]
    assert data.lstrip().startswith((b"<?xml", b"<svg", b"<!DOCTYPE html", b"%PDF-"))
    with pytest.raises(UnidentifiedImageError):
        PILImage.open(io.BytesIO(data))


def test_billion_laughs_is_the_real_bomb(corpus: dict[str, bytes]) -> None:
    data = corpus["billion_laughs.png"]
    assert data.count(b"<!ENTITY") == 10
    assert b"<lolz>&lol9;</lolz>" in data


@pytest.mark.parametrize(
    ("orientation", "corner"), [(3, "bottom-right"), (6, "top-right"), (8, "bottom-left"), (9, "top-left")]
)
def test_exif_orientation_moves_the_marker(orientation: int, corner: str, corpus: dict[str, bytes]) -> None:
    name = f"exif_orientation_{orientation}.jpg" if orientation != 9 else "exif_orientation_invalid_9.jpg"
    with PILImage.open(io.BytesIO(corpus[name])) as img:
        assert img.getexif()[0x0112] == orientation
        shown = ImageOps.exif_transpose(img).convert("RGB")
    x = shown.width - 3 if corner.endswith("right") else 2
    y = shown.height - 3 if corner.startswith("bottom") else 2
    red, green, blue = rgb(shown, (x, y))
    assert (red > 200, green < 60, blue < 60) == (True, True, True), f"the red marker should be {corner}"


def test_huge_metadata_segments_are_huge(corpus: dict[str, bytes]) -> None:
    with PILImage.open(io.BytesIO(corpus["huge_metadata.jpg"])) as img:
        assert len(img.info["exif"]) >= 65_500
        assert len(img.info["xmp"]) > 40_000
        assert len(img.info["comment"]) == 65_000


def test_polyglots_carry_their_payloads(corpus: dict[str, bytes]) -> None:
    gif = corpus["gif_js_polyglot.gif"]
    assert gif.startswith(b"GIF89a/*")
    assert gif.count(b"*/") == 1
    assert gif.endswith(b";*/=alert(document.domain);\n")
    jpeg = corpus["zip_appended.jpg"]
    with zipfile.ZipFile(io.BytesIO(jpeg)) as zf:
        assert zf.read("payload/readme.txt").startswith(b"hidden payload")
    assert jpeg.index(b"\xff\xd9") < jpeg.index(b"PK\x03\x04")
    png = corpus["html_after_iend.png"]
    assert png.index(b"IEND") < png.index(b"<!DOCTYPE html>")


def test_multi_frame_inputs(corpus: dict[str, bytes]) -> None:
    with PILImage.open(io.BytesIO(corpus["two_pages.tiff"])) as tiff:
        assert getattr(tiff, "n_frames", 1) == 2
        tiff.seek(1)
        assert tiff.size == (160, 120)
    with PILImage.open(io.BytesIO(corpus["animated_5_frames.gif"])) as gif:
        assert getattr(gif, "n_frames", 1) == 5
