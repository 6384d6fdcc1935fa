"""Job payloads: ids and parameters only, validated on both sides of the queue."""

from __future__ import annotations

import json

import pytest

from jobs.contract.errors import InvalidRequest
from jobs.contract.ids import new_image_id
from jobs.contract.payloads import TransformJob, UploadJob, parse_payload


def test_round_trip_through_message_args() -> None:
    job = UploadJob(image_id=new_image_id(), account="acme", job_id="j1", source_url="https://x/y.jpg")
    raw = json.loads(json.dumps(job.to_message_args()))
    assert raw["kind"] == "upload"
    assert parse_payload(raw) == job


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not a dict", "payload"),
        ({"kind": "explode"}, "kind"),
        ({"kind": "upload", "image_id": "../../etc", "account": "a", "job_id": "j"}, "image_id"),
        ({"kind": "upload", "image_id": "image_" + "a" * 24, "account": "a", "job_id": "j", "x": 1}, "x"),
        (
            {"kind": "upload", "image_id": "image_" + "a" * 24, "account": "a", "job_id": "j",
             "source_url": "file:///etc/passwd"},
            "source_url",
        ),
        (
            {"kind": "transform", "image_id": "image_" + "a" * 24, "account": "a", "job_id": "j",
             "parent_id": "image_" + "b" * 24, "operations": []},
            "operations",
        ),
    ],
)  # fmt: skip
def test_bad_payloads_are_rejected_naming_the_field(raw: object, field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_payload(raw)
    assert info.value.field == field


def test_transform_payload_carries_operations_not_bytes() -> None:
    job = TransformJob(
        image_id=new_image_id(),
        account="acme",
        job_id="j",
        parent_id=new_image_id(),
        operations=[{"op": "resize", "width": 300}],
    )
    encoded = json.dumps(job.to_message_args())
    assert len(encoded) < 400 and "resize" in encoded
