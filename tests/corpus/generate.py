"""Generate the bad-input corpus described in ``manifest.py``.

    python tests/corpus/generate.py [OUTDIR] [--lazy]

writes every non-lazy case into OUTDIR (default ``tests/corpus/files/``, git-ignored: the files are
generated, never committed). ``--lazy`` also writes the multi-megabyte cases. Tests should call
``build(case)`` / ``build_all(tmp_path)`` instead of relying on a pre-generated directory.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.corpus.manifest import CASES, CorpusCase

DEFAULT_OUTDIR = Path(__file__).resolve().parent / "files"


def build(case: CorpusCase) -> bytes:
    """The bytes of one case (deterministic: same environment, same bytes)."""
    data = case.generator()
    if not isinstance(data, bytes):
        raise TypeError(f"generator of {case.filename!r} returned {type(data).__name__}, not bytes")
    return data


def build_all(outdir: Path, *, include_lazy: bool = False) -> list[Path]:
    """Write every case (lazy ones only if asked) into ``outdir``; return the paths in manifest order."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for case in CASES:
        if case.lazy and not include_lazy:
            continue
        path = outdir / case.filename
        path.write_bytes(build(case))
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the Darkroom bad-input corpus.")
    parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--lazy", action="store_true", help="also write the multi-megabyte lazy cases")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = build_all(args.outdir, include_lazy=args.lazy)
    total = sum(path.stat().st_size for path in paths)
    elapsed = time.perf_counter() - started
    print(f"wrote {len(paths)} files ({total:,} bytes) to {args.outdir} in {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
