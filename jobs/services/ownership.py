"""Which storage objects an image record owns: one answer for the jobs that clean up after
themselves and for ``darkroom fsck``.

The storage layout (``jobs.contract.constants``, ``docs/design.md`` §7) names every object of an
image by its id: ``originals/{id}``, ``records/{id}.json``, ``images/{id}/…``,
``derived/{id}/…``, ``public/{id}/…``. What a record owns under those depends on its state:

* a ``processing`` record owns everything under its prefixes: a job may be writing there
  right now (and a refresh keeps the previous rendition until the new one lands), so nothing
  can be judged about it;
* a ``ready`` record owns its master and sizes in its format, its render cache, and its
  public copies while it is published;
* a ``failed`` record owns no rendition; an upload keeps its original (it can be retried)
  unless it failed because its bytes are blocked.

Every record owns its sidecar, and an upload (no ``parent_id``) its original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from jobs.contract.constants import master_key, original_key, record_key, size_key
from jobs.contract.errors import MediaBlocked
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.publication import copies

# every prefix that holds objects of images; fsck walks exactly these
LAYOUT_PREFIXES: Final = ("originals/", "records/", "images/", "derived/", "public/")
_KEY: Final = re.compile(
    r"^(?:originals/(?P<original>[^/]+)"
    r"|records/(?P<record>[^/]+)\.json"
    r"|(?P<area>images|derived|public)/(?P<id>[^/]+)/[^/]+)$"
)


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """A key of the layout: whose it is and which kind of object."""

    image_id: str
    kind: str  # original, record, images, derived, public


def parse_key(key: str) -> ObjectKey | None:
    """The image a key belongs to, or None for a key outside the layout."""
    match = _KEY.match(key)
    if match is None:
        return None
    if match["original"]:
        return ObjectKey(match["original"], "original")
    if match["record"]:
        return ObjectKey(match["record"], "record")
    return ObjectKey(match["id"], match["area"])


def is_blocked(record: Record) -> bool:
    error = record.image.error
    return record.status == Status.FAILED and error is not None and error.code == MediaBlocked.code


def keeps_original(record: Record) -> bool:
    return record.image.parent_id is None and not is_blocked(record)


def rendition_keys(record: Record) -> list[str]:
    """The master and sizes a ready record points at."""
    fmt = record.image.format
    if record.status != Status.READY or fmt is None:
        return []
    return [master_key(record.id, fmt)] + [size_key(record.id, s, fmt) for s in record.image.sizes]


def owns(record: Record, key: str) -> bool:
    """Whether ``key`` is an object ``record`` owns (see the module docstring)."""
    parsed = parse_key(key)
    if parsed is None or parsed.image_id != record.id:
        return False
    if parsed.kind == "record":
        return True
    if parsed.kind == "original":
        return keeps_original(record)
    if record.status == Status.PROCESSING:
        return True
    if record.status != Status.READY:
        return False
    if parsed.kind == "images":
        return key in rendition_keys(record)
    if parsed.kind == "public":
        return record.image.public and key in {dst for _, dst in copies(record.image)}
    return True  # derived: the render cache of a ready image


def expected_keys(record: Record) -> list[str]:
    """The objects that must exist for ``record`` (fsck reports the missing ones).

    An upload from a URL has its original once its job fetched it, so for certain only when
    ready (a failed fetch has none); a processing image may not have a rendition yet: only
    what is certain is listed.
    """
    keys = [record_key(record.id)]
    fetched = not record.extra.get("source_url") or record.status == Status.READY
    if keeps_original(record) and fetched:
        keys.append(original_key(record.id))
    keys += rendition_keys(record)
    if record.status == Status.READY and record.image.public:
        keys += [dst for _, dst in copies(record.image)]
    return keys
