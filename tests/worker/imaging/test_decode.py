"""sniff / open_source / probe / load_frames: formats, limits, bad input."""

from __future__ import annotations

import io
import random
import time

import pytest
from PIL import Image as PILImage

from jobs.contract.errors import DarkroomError, MediaFailed, TooLarge, UnsupportedMediaType
from tests.support.imaging import BLUE, RED, animated_gif, encode, halves, png_header_only, rgb_at
from worker.imaging import Limits, probe, process_upload
from worker.imaging.decode import decode, open_source
from worker.imaging.sniff import sniff

INPUTS = {
    "jpeg": lambda im: encode(im, "JPEG", quality=95),
    "png": lambda im: encode(im, "PNG"),
    "webp": lambda im: encode(im, "WEBP", lossless=True),
    "gif": lambda im: encode(im, "GIF"),
    "tiff": lambda im: encode(im, "TIFF"),
    "bmp": lambda im: encode(im, "BMP"),
    "heif": lambda im: encode(im, "HEIF", quality=95),
    "avif": lambda im: encode(im, "AVIF", quality=95),
}


@pytest.mark.parametrize("fmt", sorted(INPUTS))
def test_every_input_format_decodes_with_its_pixels(fmt: str, limits: Limits) -> None:
    data = INPUTS[fmt](halves(64, 48))
    info = probe(data, limits)
    assert (info.format, info.width, info.height, info.frames) == (fmt, 64, 48, 1)
    _, decoded = decode(data, limits)
    image = decoded.first
    assert image.size == (64, 48)
    assert image.mode in ("L", "RGB", "RGBA")
    assert image.info == {}
    r, g, b, _ = rgb_at(image, (8, 24))
    assert r > 200 and b < 60, (fmt, r, g, b)
    r, g, b, _ = rgb_at(image, (56, 24))
    assert b > 200 and r < 60, (fmt, r, g, b)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MediaFailed),
        (b"hello, this is a text file named photo.jpg\n" * 20, MediaFailed),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", UnsupportedMediaType),
        (b"\x00\x01\x02garbage\xff" * 50, MediaFailed),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            UnsupportedMediaType,
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>', UnsupportedMediaType),
        (b'<?xml version="1.0"?><note><to>x</to></note>', UnsupportedMediaType),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", UnsupportedMediaType),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", UnsupportedMediaType),
    ],
    ids=["empty", "text", "html", "garbage", "svg-xml", "svg", "xml", "pdf", "mp4"],
)
def test_bad_inputs_fail_with_the_right_code(data: bytes, error: type[Exception], limits: Limits) -> None:
    with pytest.raises(error) as caught:
        process_upload(data, limits)
    assert (
        caught.value.code
        == {MediaFailed: "media_failed", UnsupportedMediaType: "unsupported_media_type"}[error]
    )  # type: ignore[attr-defined]


class _CountingDecoder:
    def __init__(self, inner: object, calls: list[int]) -> None:
        self._inner, self._calls = inner, calls

    def decode(self, buffer: bytes) -> tuple[int, int]:
        self._calls.append(len(buffer))
        return self._inner.decode(buffer)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_the_jpeg_decoder_gets_the_input_in_one_call(limits: Limits, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not in 64 KiB pieces (one GIL round trip and one copy each); the pixels are the same."""
    noisy = PILImage.merge("RGB", [PILImage.effect_noise((700, 500), 60) for _ in range(3)])
    data = INPUTS["jpeg"](noisy)
    assert len(data) > 4 * 65536  # Pillow alone would feed it in 5+ pieces
    reference = PILImage.open(io.BytesIO(data)).convert("RGB").tobytes()
    calls: list[int] = []
    real = PILImage._getdecoder
    monkeypatch.setattr(PILImage, "_getdecoder", lambda *a, **k: _CountingDecoder(real(*a, **k), calls))

    _, decoded = decode(data, limits)

    assert len(calls) == 1 and calls[0] > len(data) - 1024  # all but the headers Pillow parsed
    assert decoded.first.convert("RGB").tobytes() == reference


def test_truncated_jpeg_is_media_failed(limits: Limits) -> None:
    data = encode(halves(400, 300), "JPEG", quality=90)
    with pytest.raises(MediaFailed):
        process_upload(data[: len(data) // 2], limits)


def test_corrupt_header_is_media_failed(limits: Limits) -> None:
    data = encode(halves(40, 30), "PNG")
    with pytest.raises(MediaFailed):
        process_upload(data[:20], limits)


def test_decompression_bomb_png_is_rejected_from_the_header(limits: Limits) -> None:
    bomb = png_header_only(20000, 20000)
    assert len(bomb) < 200
    start = time.perf_counter()
    with pytest.raises(TooLarge) as caught:
        process_upload(bomb, limits)
    assert time.perf_counter() - start < 0.5  # 400 MP were never allocated
    assert caught.value.code == "too_large"
    with pytest.raises(TooLarge):
        probe(bomb, limits)


def test_pixel_limit_is_exact(limits: Limits) -> None:
    data = encode(halves(100, 100), "PNG")
    assert probe(data, Limits(max_pixels=10_000)).width == 100
    with pytest.raises(TooLarge):
        probe(data, Limits(max_pixels=9_999))


def test_jpeg_declaring_huge_dimensions_is_too_large(limits: Limits) -> None:
    data = bytearray(encode(halves(16, 16), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (30000).to_bytes(2, "big") + (30000).to_bytes(2, "big")
    with pytest.raises(TooLarge):
        process_upload(bytes(data), limits)


def test_too_many_bytes_is_too_large() -> None:
    data = encode(halves(64, 64), "PNG")
    with pytest.raises(TooLarge):
        probe(data, Limits(max_input_bytes=len(data) - 1))


def test_gif_with_more_frames_than_allowed_is_too_large() -> None:
    data = animated_gif([RED, BLUE, RED, BLUE, RED])
    assert probe(data, Limits(max_frames=5)).frames == 5
    with pytest.raises(TooLarge) as caught:
        process_upload(data, Limits(max_frames=4))
    assert "frames" in caught.value.message


def test_animation_total_pixels_are_bounded() -> None:
    data = animated_gif([RED, BLUE, RED], size=(100, 100))
    with pytest.raises(TooLarge):
        process_upload(data, Limits(max_pixels=25_000))  # 3 x 10 000 pixels > 25 000


def test_probe_reports_displayed_size_and_alpha(limits: Limits) -> None:
    exif = PILImage.Exif()
    exif[0x0112] = 6
    data = encode(halves(60, 40), "JPEG", exif=exif.tobytes())
    info = probe(data, limits)
    assert (info.width, info.height, info.orientation) == (40, 60, 6)
    assert not info.has_alpha
    rgba = encode(halves(10, 10, mode="RGBA", left=(1, 2, 3, 0)), "PNG")
    assert probe(rgba, limits).has_alpha


def test_sniff_recognises_heif_and_avif_brands() -> None:
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "heif"
    assert sniff(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf") == "avif"
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif") == "avif"


def test_open_source_does_not_decode_pixels(limits: Limits) -> None:
    src = open_source(encode(halves(300, 200), "PNG"), limits)
    assert src.image.tile  # decoding is still pending: only the header was read
    assert src.info.width == 300


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "gif", "tiff"])
def test_damaged_files_never_raise_anything_but_darkroom_errors(fmt: str, limits: Limits) -> None:
    """Bad input never crashes a worker: flipped bytes, cuts and insertions → our error tree only."""
    data = INPUTS[fmt](halves(48, 32))
    rnd = random.Random(fmt)
    outcomes = set()
    for _ in range(25):
        damaged = bytearray(data)
        if rnd.random() < 0.5:
            for _ in range(rnd.randint(1, 6)):
                damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        else:
            damaged = damaged[: rnd.randrange(1, len(damaged))]
        try:
            process_upload(bytes(damaged), limits)
            outcomes.add("ok")
        except DarkroomError as exc:
            outcomes.add(exc.code)
    assert outcomes <= {"ok", "media_failed", "too_large", "unsupported_media_type"}
    assert "media_failed" in outcomes
