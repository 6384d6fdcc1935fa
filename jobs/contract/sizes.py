"""Byte counts as people read them: ``20 MiB``, not ``20971520``.

Every message or document that states a size limit goes through :func:`human_size`, so the
413 a caller reads, the log an operator reads and ``docs/api.md`` say the same thing.
"""

from __future__ import annotations

from typing import Final

_UNITS: Final = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def human_size(count: int) -> str:
    """``20 MiB``, ``64 KiB``, ``1.5 MiB``, ``512 bytes``: exact when whole, else one decimal."""
    for unit, size in _UNITS:
        if count >= size:
            whole, rest = divmod(count, size)
            return f"{whole} {unit}" if rest == 0 else f"{count / size:.1f} {unit}"
    return f"{count} byte" + ("" if count == 1 else "s")
