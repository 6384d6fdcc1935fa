"""Render URL signing: per-account keys, tamper detection, canonical options, cache digests."""

from __future__ import annotations

import pytest

from jobs.contract.errors import Forbidden, InvalidRequest
from jobs.contract.ids import new_image_id
from jobs.contract.operations import Operation, validate_operations
from jobs.services.render_urls import (
    account_tag,
    build_path,
    cache_digest,
    decode_options,
    parse,
    verify,
    verify_signature,
)

KEY = "secret"


def ops(*raw: dict[str, object]) -> list[Operation]:
    return validate_operations(list(raw))


def test_round_trip_and_verify() -> None:
    image_id = new_image_id()
    path = build_path(KEY, "acme", image_id, ops({"op": "resize", "width": 300}), "webp")
    ref = parse(f"https://cdn.example.com{path}?utm=1")
    assert ref.image_id == image_id and ref.ext == "webp" and ref.format == "webp"
    verify(KEY, "acme", ref)
    assert decode_options(ref.options) == ops({"op": "resize", "width": 300})


def test_signature_binds_account_key_options_and_format() -> None:
    image_id = new_image_id()
    ref = parse(build_path(KEY, "acme", image_id, ops({"op": "grayscale"}), "png"))
    for account, key in (("globex", KEY), ("acme", "other-key")):
        with pytest.raises(Forbidden):
            verify(key, account, ref)
    other = parse(build_path(KEY, "acme", image_id, ops({"op": "invert"}), "png"))
    with pytest.raises(Forbidden):
        verify(KEY, "acme", type(ref)(ref.signature, other.options, image_id, "png"))
    with pytest.raises(Forbidden):
        verify(KEY, "acme", type(ref)(ref.signature, ref.options, image_id, "jpg"))


def test_equivalent_pipelines_share_one_spelling_and_digest() -> None:
    a = ops({"op": "resize", "width": 300, "fit": "inside"})
    b = ops({"fit": "inside", "op": "resize", "width": 300})
    image_id = new_image_id()
    assert build_path(KEY, "acme", image_id, a, "jpeg") == build_path(KEY, "acme", image_id, b, "jpeg")
    assert cache_digest(a, "jpeg") == cache_digest(b, "jpeg") != cache_digest(a, "webp")


@pytest.mark.parametrize(
    "path",
    ["/render/x/y/z.jpg", "/render/" + "A" * 43 + "/e30/image_bad.jpg", "/render/" + "A" * 43 + "/e30/"
     + "image_" + "a" * 24 + ".bmp", "/files/a", ""],
)  # fmt: skip
def test_parse_rejects_non_render_paths(path: str) -> None:
    with pytest.raises(InvalidRequest):
        parse(path)


def test_bad_options_and_contradicting_convert() -> None:
    with pytest.raises(InvalidRequest):
        decode_options("!!notbase64")
    with pytest.raises(InvalidRequest) as info:
        build_path(KEY, "acme", new_image_id(), ops({"op": "convert", "format": "png"}), "webp")
    assert info.value.field == "operations[0].format"
    with pytest.raises(InvalidRequest):
        build_path("", "acme", new_image_id(), [], "webp")


def test_the_signature_is_checked_from_the_url_alone() -> None:
    image_id = new_image_id()
    ref = parse(build_path(KEY, "acme", image_id, ops({"op": "grayscale"}), "png"))
    assert len(ref.signature) == 59 and not ref.legacy
    assert verify_signature(KEY, ref) == account_tag(KEY, "acme")  # no record, no account needed
    for key, forged in ((KEY, "B" + ref.signature[1:]), ("other-key", ref.signature)):
        with pytest.raises(Forbidden):
            verify_signature(key, type(ref)(forged, ref.options, image_id, "png"))
    with pytest.raises(Forbidden):  # an untagged signature cannot be checked without its record
        verify_signature(KEY, type(ref)(ref.signature[:43], ref.options, image_id, "png"))
