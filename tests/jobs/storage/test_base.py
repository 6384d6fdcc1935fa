"""validate_key / validate_prefix: the one gate that keeps every key inside the store."""

from __future__ import annotations

import pytest

from jobs.contract.constants import derived_key, master_key, original_key, public_prefix, record_key, size_key
from jobs.contract.errors import InvalidRequest
from jobs.plumbing.storage import validate_key
from jobs.plumbing.storage.base import is_valid_key, validate_prefix

GOOD = [
    "a",
    "originals/image_0123456789abcdefghijklmn",
    "images/image_1/master.jpg",
    "A-Z_a-z.0-9",
    "..a/b../.c",  # dots inside names are fine; only "." and ".." segments are not
    "x" * 255,
    "/".join(["y" * 255] * 3 + ["y" * 200, "z" * 55]),  # exactly 1024 characters
]

BAD = [
    "",
    "/",
    "/etc/passwd",
    "../x",
    "a/../b",
    "a/..",
    "..",
    ".",
    "a/./b",
    "a//b",
    "a/",  # a key never ends with "/"
    "a\\b",
    "..\\..\\windows",
    "a\x00b",
    "a b",
    "a\nb",
    "café",
    "a:b",
    "a~b",  # "~" is reserved for LocalStorage's temp files
    "x" * 256,  # one segment longer than a file name may be
    "a/" * 512 + "a",  # 1025 characters
]


@pytest.mark.parametrize("key", GOOD)
def test_accepts_and_returns_good_keys(key: str) -> None:
    assert validate_key(key) == key
    assert is_valid_key(key)


@pytest.mark.parametrize("key", BAD, ids=repr)
def test_rejects_bad_keys(key: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_key(key)
    assert caught.value.field == "key"
    assert caught.value.status == 400
    assert not is_valid_key(key)


def test_rejects_non_strings() -> None:
    with pytest.raises(InvalidRequest):
        validate_key(b"images/x")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        validate_key(None)  # type: ignore[arg-type]


def test_every_layout_key_is_valid() -> None:
    image_id = "image_0123456789abcdefghijklmn"
    for key in [
        original_key(image_id),
        master_key(image_id, "jpeg"),
        size_key(image_id, "small", "webp"),
        derived_key(image_id, "0f" * 32, "avif"),
        record_key(image_id),
        public_prefix(image_id) + "master.png",
    ]:
        assert validate_key(key) == key


def test_prefixes_may_end_with_a_slash_and_may_be_empty() -> None:
    assert validate_prefix("images/image_1/") == "images/image_1/"
    assert validate_prefix("images/ima") == "images/ima"
    assert validate_prefix("") == ""
    for bad in ["/", "images//", "../", "a/./", "a\\b/"]:
        with pytest.raises(InvalidRequest):
            validate_prefix(bad)
    with pytest.raises(InvalidRequest):
        validate_prefix("", allow_empty=False)
