"""Darkroom's pure imaging core: bytes + dataclasses in, bytes + dataclasses out.

No settings, Redis, storage, network or logging configuration in here. The worker
pipeline calls these four functions from a worker thread (``asyncio.to_thread``): they are
CPU-bound, mostly in Pillow's C code, and each upload/transform runs its master and its
sizes on a private 2-thread pool. Errors are ``jobs.contract.errors``: ``TooLarge``,
``UnsupportedMediaType``, ``MediaFailed`` (bad input) and ``InvalidRequest`` (bad options);
Pillow's own size errors are translated at the edge (``edge.py``). Every step weighs what it
will allocate against ``Limits.max_memory`` first (``budget.py``).

* :func:`process_upload` - master + responsive sizes + BlurHash of an uploaded file;
* :func:`process_transform` - the same for an operation pipeline applied to a master;
* :func:`render` - just the transformed image (on-demand render URLs);
* :func:`probe` - format/size/frames from the header only.
"""

from worker.imaging.probe import probe
from worker.imaging.transform import process_transform, render
from worker.imaging.types import Encoded, Limits, ProbeResult, Rendition
from worker.imaging.upload import process_upload

__all__ = [
    "Encoded",
    "Limits",
    "ProbeResult",
    "Rendition",
    "probe",
    "process_transform",
    "process_upload",
    "render",
]
