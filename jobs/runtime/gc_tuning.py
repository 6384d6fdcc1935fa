"""The cyclic garbage collector, tuned for a long-running service (like Instagram's ``gc.freeze``).

A Darkroom process imports FastAPI, pydantic, Dramatiq, Pillow and boto: a few hundred
thousand objects that live as long as the process. CPython's collector still traverses them
in every full collection, and its young generation is collected every 700 container
allocations, which a request or a job makes many times over.

:func:`tune_gc` runs once the process has started up (the app built, the actors declared):

* ``gc.freeze()`` moves everything allocated so far into the permanent generation, which
  the collector never scans again.
* The young-generation threshold goes from 700 to ``YOUNG_THRESHOLD`` allocations, so most
  of a request's temporary objects are freed by reference counting before any collection
  has to look at them.

Reference cycles are still collected, just in bigger batches.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 20_000
OLDER_THRESHOLDS: Final = (20, 20)


def tune_gc() -> None:
    """Freeze what start-up allocated and raise the young-generation threshold."""
    gc.collect()  # what start-up left as garbage should not be frozen with it
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
