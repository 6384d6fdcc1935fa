"""Benchmark the upload variants job (master + small/medium/large) against two baselines.

    python -m bench.variants            # 1, 12, 24, 50 MP; JPEG and WebP outputs
    python -m bench.variants --quick    # 1 and 12 MP, fewer repeats (CI smoke)

* **ours**: ``worker.imaging.process_upload`` (2 threads: master ∥ sizes; lossless master +
  JPEG shrink-on-load for web-safe JPEGs; sizes derived from each other).
* **naive Pillow**: full decode, each size resized from the full image with LANCZOS,
  encode master + sizes, one thread; same quality as ours, Pillow's other defaults.
* **pyvips**: ``pyvips.Image.thumbnail_buffer`` per size + master decode/save, with exactly
  our encoder settings (quality, optimize/progressive, WebP effort); libvips' own thread
  pool (``VIPS_CONCURRENCY``, default = cores); operation cache disabled.

Inputs are synthetic but photo-like (smooth gradients, shapes with edges, sensor-like
noise) saved as quality-90 JPEG, cached in ``bench/.cache/``. Times are the best of the
repeats after one warm-up run (as ``timeit`` advises: the minimum is the run least
disturbed by whatever else shares the cores). Never asserts anything: it prints.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageFilter, ImageOps

from jobs.contract.constants import SIZES
from jobs.runtime.malloc import retain_freed_memory
from worker.imaging import Limits, process_upload
from worker.imaging.encode import BIG_OUTPUT_PIXELS, JPEG_QUALITY, WEBP_QUALITY
from worker.imaging.sizes import fit_inside

CACHE = Path(__file__).resolve().parent / ".cache"
LIMITS = Limits(max_pixels=60_000_000, max_frames=100, max_input_bytes=64 * 1024 * 1024)
DIMENSIONS = {1: (1154, 866), 12: (4000, 3000), 24: (6000, 4000), 50: (8660, 5773)}
PIL_NAMES = {"jpeg": "JPEG", "webp": "WEBP"}

Job = Callable[[bytes, str], dict[str, bytes]]


# --- inputs ------------------------------------------------------------------------------------


def photo_like(width: int, height: int, seed: int = 7) -> PILImage.Image:
    """Smooth gradients + blurred shapes (edges) + thin lines + Gaussian grain."""
    rnd = random.Random(seed)
    sw, sh = max(64, width // 8), max(48, height // 8)
    grad = PILImage.linear_gradient("L").resize((sw, sh))
    radial = PILImage.radial_gradient("L").resize((sw, sh)).rotate(30)
    fractal = PILImage.effect_mandelbrot((sw, sh), (-2.2, -1.3, 1.0, 1.3), 60)
    fractal = fractal.filter(ImageFilter.GaussianBlur(2))
    base = PILImage.merge("RGB", (grad, radial, fractal))
    draw = ImageDraw.Draw(base)
    for _ in range(40):
        x0, y0 = rnd.randrange(sw), rnd.randrange(sh)
        box = (x0, y0, x0 + rnd.randrange(5, sw // 3), y0 + rnd.randrange(5, sh // 3))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = base.filter(ImageFilter.GaussianBlur(1)).resize((width, height), PILImage.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        end = (x0 + rnd.randrange(-width // 4, width // 4), y0 + rnd.randrange(-height // 4, height // 4))
        draw.line((x0, y0, *end), fill=tuple(rnd.randrange(256) for _ in range(3)), width=rnd.randrange(1, 6))
    noise = PILImage.merge("RGB", [PILImage.effect_noise((width, height), 10) for _ in range(3)])
    return ImageChops.add(image, noise, 1.0, -128)


def input_jpeg(megapixels: int) -> bytes:
    path = CACHE / f"photo-{megapixels}mp.jpg"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        photo_like(*DIMENSIONS[megapixels]).save(buffer, "JPEG", quality=90)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)
    return path.read_bytes()


def with_orientation(data: bytes, orientation: int) -> bytes:
    """The same JPEG with an EXIF APP1 segment carrying ``orientation`` (no re-encode)."""
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    payload = b"Exif\x00\x00" + exif.tobytes()
    return data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


# --- the three contenders ---------------------------------------------------------------------


def ours(data: bytes, fmt: str) -> dict[str, bytes]:
    rendition = process_upload(data, LIMITS, output_format=fmt)
    return {"master": rendition.master.data} | {name: enc.data for name, enc in rendition.sizes.items()}


def naive(data: bytes, fmt: str) -> dict[str, bytes]:
    image = PILImage.open(io.BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image).convert("RGB")
    quality = JPEG_QUALITY if fmt == "jpeg" else WEBP_QUALITY
    out = {}
    for name, (box_w, box_h) in [("master", image.size), *SIZES.items()]:
        size = fit_inside(image.width, image.height, box_w, box_h)
        resized = image if size == image.size else image.resize(size, PILImage.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, PIL_NAMES[fmt], quality=quality)
        out[name] = buffer.getvalue()
    return out


def _vips_options(fmt: str, pixels: int) -> dict[str, object]:
    """Exactly the settings ``worker.imaging.encode`` uses for an output of ``pixels``."""
    big = pixels > BIG_OUTPUT_PIXELS
    if fmt == "jpeg":
        return {"Q": JPEG_QUALITY, "optimize_coding": True, "interlace": False, "keep": 0}
    return {"Q": WEBP_QUALITY, "effort": 1 if big else 4, "keep": 0}


def pyvips_job(data: bytes, fmt: str) -> dict[str, bytes]:
    import pyvips

    suffix = ".jpg" if fmt == "jpeg" else ".webp"
    image = pyvips.Image.new_from_buffer(data, "", access="sequential").autorot()
    out = {"master": image.write_to_buffer(suffix, **_vips_options(fmt, image.width * image.height))}
    for name, (box_w, box_h) in SIZES.items():
        thumb = pyvips.Image.thumbnail_buffer(data, box_w, height=box_h, size="down")
        out[name] = thumb.write_to_buffer(suffix, **_vips_options(fmt, thumb.width * thumb.height))
    return out


# --- measuring --------------------------------------------------------------------------------


def timed(job: Job, data: bytes, fmt: str, repeats: int) -> tuple[float, dict[str, bytes]]:
    result = job(data, fmt)  # warm-up (imports, codec init, page faults)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = job(data, fmt)
        times.append(time.perf_counter() - start)
    return min(times), result


def psnr(a_bytes: bytes, b_bytes: bytes) -> float:
    a = PILImage.open(io.BytesIO(a_bytes)).convert("RGB")
    b = PILImage.open(io.BytesIO(b_bytes)).convert("RGB")
    if a.size != b.size:
        return float("nan")
    histogram = ImageChops.difference(a, b).histogram()
    squared = sum(count * (value % 256) ** 2 for value, count in enumerate(histogram))
    mse = squared / (a.width * a.height * 3)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


_CHILD = """
import sys
from pathlib import Path
from jobs.runtime.malloc import retain_freed_memory
from worker.imaging import Limits, process_upload
retain_freed_memory()  # as a worker process starts
data = Path(sys.argv[1]).read_bytes()
fmt = None if sys.argv[2] == "default" else sys.argv[2]
limits = Limits(max_pixels=60_000_000, max_input_bytes=64 * 1024 * 1024)
r = process_upload(data, limits, output_format=fmt)
print(r.master.format, r.master.width, r.master.height)
"""
# A forked child inherits its parent's RSS high-water mark, so the benchmark process (which
# holds big images) would pollute RUSAGE_CHILDREN: a tiny launcher spawns the real child.
_LAUNCHER = """
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
print(out.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss(megapixels: int, fmt: str) -> tuple[float, str]:
    """Peak RSS (MB) of one upload in a fresh interpreter, via ``RUSAGE_CHILDREN``."""
    input_jpeg(megapixels)
    path = CACHE / f"photo-{megapixels}mp.jpg"
    command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-c", _CHILD, str(path), fmt]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    fmt_out, width, height, rss_kb = done.stdout.split()
    return int(rss_kb) / 1024, f"{fmt_out} {width}x{height}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 and 12 MP only, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    retain_freed_memory()  # the worker's allocator, for every contender
    sizes = [1, 12] if args.quick else [1, 12, 24, 50]
    jobs: dict[str, Job] = {"ours": ours, "naive": naive}
    try:
        import pyvips

        pyvips.cache_set_max(0)
        jobs["pyvips"] = pyvips_job
        vips_info = f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, "
        vips_info += f"VIPS_CONCURRENCY={os.environ.get('VIPS_CONCURRENCY', 'default (cores)')}"
    except ImportError:
        vips_info = "pyvips not installed"
    print(f"cores: {os.cpu_count()}; ours: 2 threads; naive: 1 thread; {vips_info}")
    header = f"{'MP':>4} {'format':>6} {'ours s':>8} {'naive s':>8} {'pyvips s':>9}"
    print(f"{header} {'x naive':>8} {'x pyvips':>9}")
    psnrs = []
    for megapixels in sizes:
        data = input_jpeg(megapixels)
        repeats = args.repeats or (9 if megapixels == 1 else 3 if megapixels >= 24 or args.quick else 5)
        rows = [("jpeg", "jpeg", data), ("webp", "webp", data)]
        if megapixels == 12:
            rows.append(("jpeg*", "jpeg", with_orientation(data, 6)))
        for label, fmt, source in rows:
            results = {name: timed(job, source, fmt, repeats) for name, job in jobs.items()}
            t_ours, t_naive = results["ours"][0], results["naive"][0]
            t_vips = results["pyvips"][0] if "pyvips" in results else float("nan")
            print(
                f"{megapixels:>4} {label:>6} {t_ours:>8.3f} {t_naive:>8.3f} {t_vips:>9.3f} "
                f"{t_naive / t_ours:>7.2f}x {t_vips / t_ours:>8.2f}x",
                flush=True,
            )
            if label == "jpeg" and max(SIZES["large"]) < max(DIMENSIONS[megapixels]):
                psnrs.append((megapixels, psnr(results["ours"][1]["large"], results["naive"][1]["large"])))
    print("jpeg* = the same input tagged EXIF Orientation 6: no lossless master (decode, rotate, re-encode)")
    for megapixels, value in psnrs:
        print(f"PSNR of our large JPEG vs naive Pillow's, {megapixels} MP: {value:.2f} dB")
    rss_mp = 12 if args.quick else 50
    for fmt in ("default", "webp"):
        rss, what = peak_rss(rss_mp, fmt)
        print(f"peak RSS, {rss_mp} MP JPEG upload (output {fmt} -> {what}) in a fresh process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
