"""The memory budget, measured: worker processes' RSS while the review's hostile jobs run and after.

    python -m bench.memory           # prints the section's Markdown table

The repro of issue 16's items 1-2 against a real stack (API, Redis, a pool of 2 worker
processes): a 10-frame 16x16 GIF transformed with ``resize 7000x7000 fit=fill enlarge``
then a crop that fails (2 GB of pixels), and ``watermark text="W"*200 font_size=2000`` on
a 64x64 image (a 2 GB text layer), each round after the other. For each worker process: its
peak RSS (``VmHWM``) over the run, the highest RSS found after a round (2 s after its jobs
ended) and at the end, against the documented budgets. Three rows:

* the defaults: the jobs are refused (``too_large``) or made cheap before they allocate;
* ``IMAGING_MEMORY_MB=4096``: the same jobs allowed to allocate their 2 GB; afterwards the
  process is back under ``WORKER_MEMORY_MB`` (the after-job trim);
* also ``WORKER_MEMORY_MB=65536``: no after-job trim, i.e. the allocator as it was: the
  freed memory stays resident.

Never asserts anything (``tests/e2e/test_memory_budget.py`` does).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from PIL import Image as PILImage

from bench.stack import Stack, bench_stack, memory_kib
from jobs.contract.settings import Settings

Result = dict[str, Any]
HOSTILE_RESIZE: list[dict[str, Any]] = [
    {"op": "resize", "width": 7000, "height": 7000, "fit": "fill", "enlarge": True},
    {"op": "crop", "x": 9999, "y": 0, "width": 5, "height": 5},
]
HOSTILE_TEXT: list[dict[str, Any]] = [{"op": "watermark", "text": "W" * 200, "font_size": 2000}]
SETTLE_S = 2.0  # the after-job hook runs as the job ends; this only lets the last one finish


def _gif() -> bytes:
    frames = [PILImage.new("RGB", (16, 16), (i * 20, 0, 0)) for i in range(10)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 64), (0, 0, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def _outcome(stack: Stack, image_id: str) -> str:
    image = stack.client().wait(image_id, timeout=300)
    return image.error.code if image.error is not None else image.status.value


def repro(stack: Stack, rounds: int) -> Result:
    """The hostile jobs ``rounds`` times each on a pool of 2 processes; RSS per process (MB)."""
    pids = stack.start_workers(2, threads=2)
    client = stack.client()
    gif = client.wait(client.upload(_gif()).id, timeout=60)
    png = client.wait(client.upload(_png()).id, timeout=60)
    outcomes: set[str] = set()
    worst = [0.0 for _ in pids]  # the highest RSS found after a round, per process
    for _ in range(rounds):
        resized = client.transform(gif.id, HOSTILE_RESIZE)
        text = client.transform(png.id, HOSTILE_TEXT)
        outcomes |= {f"resize:{_outcome(stack, resized.id)}", f"text:{_outcome(stack, text.id)}"}
        time.sleep(SETTLE_S)
        worst = [max(w, memory_kib(pid, "VmRSS") / 1024) for w, pid in zip(worst, pids, strict=True)]
    peak = [memory_kib(pid, "VmHWM") / 1024 for pid in pids]
    end = [memory_kib(pid, "VmRSS") / 1024 for pid in pids]
    settings = stack.settings
    stack.stop_workers()
    return {
        "peak_mb": _per_process(peak),
        "after_round_mb": _per_process(worst),
        "end_mb": _per_process(end),
        "worker_budget_mb": settings.worker_memory_mb,
        "imaging_budget_mb": settings.imaging_memory_mb,
        "outcomes": " ".join(sorted(outcomes)),
    }


def _per_process(values: list[float]) -> str:
    return "/".join(f"{v:.0f}" for v in values)


ROWS: list[tuple[str, dict[str, Any]]] = [
    ("defaults", {}),
    ("IMAGING_MEMORY_MB=4096", {"imaging_memory_mb": 4096}),
    ("… and WORKER_MEMORY_MB=65536 (no trim)", {"imaging_memory_mb": 4096, "worker_memory_mb": 65536}),
]


def run(quick: bool, report: Callable[[str, Result], None]) -> None:
    for name, overrides in ROWS:
        with bench_stack(**overrides) as stack:
            report(name, repro(stack, rounds=1 if quick else 3))


def table(rows: list[tuple[str, Result]]) -> str:
    budget = Settings().worker_memory_mb
    lines = [
        f"Documented budgets: `WORKER_MEMORY_MB={budget}` (RSS of a worker process between jobs), "
        f"`IMAGING_MEMORY_MB={Settings().imaging_memory_mb}` (pixels one job holds at once). "
        "RSS in MB of each worker process (a pool of 2 processes, 2 threads each).",
        "",
        f"| settings | peak RSS | after a round (highest) | at the end | after ≤ {budget} MB | outcomes |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows:
        after = [float(v) for v in str(r["after_round_mb"]).split("/")]
        within = "yes" if all(v <= budget for v in after) else "no"
        cells = [name, r["peak_mb"], r["after_round_mb"], r["end_mb"], within, r["outcomes"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, Result]] = []
    run(args.quick, lambda name, result: rows.append((name, result)))
    print(table(rows))


if __name__ == "__main__":
    main()
