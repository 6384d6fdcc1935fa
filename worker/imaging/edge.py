"""The imaging core's edge: what leaves ``process_upload``/``process_transform``/``render``/``probe``.

Two jobs, done once here for every entry point:

* **Pillow's size errors are ours.** ``DecompressionBombError`` (and its warning, when
  warnings are errors), ``MemoryError`` and the "too large" ``ValueError``/``OverflowError``
  Pillow's C core raises all mean the input or a result is too big: they become
  :class:`~jobs.contract.errors.TooLarge` (permanent), never an unexpected exception that the worker
  retries six times.
* **A failure lets go of its pixels.** An exception's traceback references every frame it
  unwound through, and their locals: the decoded frames, each operation's output. Whoever
  keeps the exception (Dramatiq's retry bookkeeping, an asyncio future, a log record) would
  keep gigabytes alive with it. The frames' locals are cleared here, before the exception
  leaves; the traceback still prints (file, line, function).
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Callable
from typing import Final, ParamSpec, TypeVar

from PIL import Image as PILImage

from jobs.contract.errors import TooLarge

P = ParamSpec("P")
T = TypeVar("T")

# Pillow's C core: "Width too large", "radius too large", "array allocation size too large", ...
_TOO_LARGE: Final = re.compile(r"too large|exceeds limit", re.IGNORECASE)


def as_too_large(exc: BaseException) -> TooLarge | None:
    """The ``too_large`` error a foreign exception means, or None when it means something else."""
    if isinstance(exc, (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning)):
        return TooLarge(f"The image has too many pixels ({exc}).")
    if isinstance(exc, MemoryError):
        return TooLarge("The image is too large to process in memory.")
    if isinstance(exc, (ValueError, OverflowError)) and _TOO_LARGE.search(str(exc)):
        return TooLarge(f"The image is too large to process ({exc}).")
    return None


def release_frames(exc: BaseException) -> None:
    """Clear the locals of every finished frame ``exc`` (and its causes) unwound through."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


def imaging_edge(fn: Callable[P, T]) -> Callable[P, T]:
    """Wrap an entry point of the imaging core (see the module doc)."""

    @functools.wraps(fn)
    def edge(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            release_frames(exc)
            translated = as_too_large(exc)
            if translated is None:
                raise
            raise translated from exc

    return edge
