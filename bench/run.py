"""``make bench``: the engine, system and memory-budget benchmarks, written to ``bench/RESULTS.md``.

    python -m bench.run            # full mode: the numbers for the README/notes
    python -m bench.run --quick    # small counts, same code paths (CI smoke)

Machine information goes first, so a reader knows what the ratios were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import system

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> list[str]:
    import PIL

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)  # fmt: skip
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0  # fmt: skip
    try:
        import pyvips

        vips = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception:
        vips = "not installed"
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- cpu: {cpu} × {os.cpu_count()} logical cores",
        f"- memory: {mem_kib / 1024 / 1024:.1f} GiB",
        f"- load average at start: {os.getloadavg()[0]:.2f}",
        f"- python {platform.python_version()}, Pillow {PIL.__version__}, libvips {vips}",
        f"- platform: {platform.platform()}",
    ]


def engine_table(quick: bool) -> str:
    argv = [sys.executable, "-m", "bench.variants", *(["--quick"] if quick else [])]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"(bench.variants failed)\n{done.stderr[-2000:]}"


def memory_table(quick: bool) -> str:
    argv = [sys.executable, "-m", "bench.memory", *(["--quick"] if quick else [])]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"(bench.memory failed)\n{done.stderr[-2000:]}"


def system_rows(quick: bool) -> list[str]:
    rows: list[str] = []

    def report(name: str, result: dict[str, Any]) -> None:
        cells = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
        print(f"{name:28s} {cells}", flush=True)
        rows.append(f"| {name} | {cells} |")

    system.run(quick, report)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Darkroom benchmarks and write bench/RESULTS.md.")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    header = machine()
    print("\n".join(header), flush=True)
    engine = engine_table(args.quick)
    print(engine, flush=True)
    rows = system_rows(args.quick)
    memory = memory_table(args.quick)
    print(memory, flush=True)
    mode = "quick" if args.quick else "full"
    RESULTS.write_text(
        "\n".join(
            [
                "# Darkroom benchmark results",
                "",
                f"Mode: {mode} (`python -m bench.run{' --quick' if args.quick else ''}`).",
                "",
                *header,
                "",
                "## Engine: the upload variants job (`bench/variants.py`)",
                "",
                "```",
                engine,
                "```",
                "",
                "## System: HTTP → Redis → worker → storage (`bench/system.py`)",
                "",
                "| workload | result |",
                "|---|---|",
                *rows,
                "",
                "## Memory budget: the hostile jobs of issue 16 (`bench/memory.py`)",
                "",
                memory,
                "",
            ]
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
