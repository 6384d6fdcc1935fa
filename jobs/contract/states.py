"""The Image state machine (docs/design.md §2).

``processing → ready | failed``, ``ready → processing`` (reprocess/refresh),
``failed → processing`` (retry), and ``ready → failed`` — only when its content is put on
the blocklist (issue 5: existing images "become failed with media_blocked"). Nothing else.
Publish/unpublish keep the status.
"""

from __future__ import annotations

from enum import StrEnum

from jobs.contract.errors import Conflict


class Status(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PROCESSING: frozenset({Status.READY, Status.FAILED}),
    Status.READY: frozenset({Status.PROCESSING, Status.FAILED}),
    Status.FAILED: frozenset({Status.PROCESSING}),
}

TERMINAL: frozenset[Status] = frozenset({Status.READY, Status.FAILED})


def can_transition(old: Status, new: Status) -> bool:
    return new in ALLOWED[old]


def check_transition(old: Status, new: Status) -> None:
    if not can_transition(old, new):
        raise Conflict(f"An image cannot go from {old.value} to {new.value}.")
