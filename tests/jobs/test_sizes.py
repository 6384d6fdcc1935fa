"""Sizes in messages and docs read as people write them."""

from __future__ import annotations

import pytest

from jobs.contract.settings import MiB
from jobs.contract.sizes import human_size


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KiB"),
        (64 * 1024, "64 KiB"),
        (20 * MiB, "20 MiB"),
        (3 * MiB // 2, "1.5 MiB"),
        (2 * 1024 * MiB, "2 GiB"),
    ],
)
def test_human_size(count: int, text: str) -> None:
    assert human_size(count) == text
