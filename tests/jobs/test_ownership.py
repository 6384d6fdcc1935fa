"""Which objects a record owns and which it must have: the rules cleanup and fsck share."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.contract.constants import master_key, original_key, record_key, size_key
from jobs.contract.models import Image, ImageError, SizeVariant
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.ownership import expected_keys, owns, parse_key

ID = "image_" + "a" * 24
OTHER = "image_" + "b" * 24
SIZES = {"small": SizeVariant(width=4, height=3)}


def record(status: Status, **fields: Any) -> Record:
    extra = {"source_url": fields.pop("source_url")} if "source_url" in fields else {}
    image = Image(id=ID, name="c", filename="c.jpg", status=status, **fields)
    return Record(image=image, account="acme", extra=extra)


READY = record(Status.READY, format="jpeg", sizes=SIZES)
BLOCKED = record(Status.FAILED, error=ImageError(code="media_blocked", message="x"))
FAILED = record(Status.FAILED, error=ImageError(code="media_failed", message="x"))
TRANSFORM = record(Status.READY, format="png", parent_id=OTHER)


@pytest.mark.parametrize(
    ("owner", "key", "owned"),
    [
        (READY, master_key(ID, "jpeg"), True),
        (READY, size_key(ID, "small", "jpeg"), True),
        (READY, size_key(ID, "large", "jpeg"), False),  # a size it does not have
        (READY, master_key(ID, "png"), False),  # another format
        (READY, f"public/{ID}/master.jpg", False),  # not published
        (READY, f"derived/{ID}/d.webp", True),
        (READY, master_key(OTHER, "jpeg"), False),  # another image's
        (record(Status.PROCESSING), master_key(ID, "gif"), True),  # a job may be writing it
        (FAILED, original_key(ID), True),  # a failed upload can be retried
        (FAILED, master_key(ID, "jpeg"), False),
        (BLOCKED, original_key(ID), False),
        (BLOCKED, record_key(ID), True),
        (TRANSFORM, original_key(ID), False),  # a transform has none
    ],
)
def test_owns(owner: Record, key: str, owned: bool) -> None:
    assert owns(owner, key) is owned


def test_expected_keys() -> None:
    assert expected_keys(READY) == [
        record_key(ID),
        original_key(ID),
        master_key(ID, "jpeg"),
        size_key(ID, "small", "jpeg"),
    ]
    assert expected_keys(record(Status.FAILED, source_url="https://x/y.jpg")) == [
        record_key(ID)
    ]  # fetch failed
    assert expected_keys(record(Status.PROCESSING)) == [
        record_key(ID),
        original_key(ID),
    ]  # staged before the record
    assert expected_keys(BLOCKED) == [record_key(ID)]
    assert expected_keys(TRANSFORM) == [record_key(ID), master_key(ID, "png")]


def test_parse_key() -> None:
    assert parse_key("images/x/y/z.jpg") is None and parse_key("elsewhere/x") is None
    parsed = parse_key(record_key(ID))
    assert parsed is not None and parsed.kind == "record"
