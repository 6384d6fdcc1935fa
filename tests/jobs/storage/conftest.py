"""Fixtures for the storage tests (helpers live in ``support.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def payload() -> bytes:
    """Binary data that would break any text/newline handling: every byte value, NULs, CR/LF."""
    return bytes(range(256)) * 40 + b"\x00\r\n\x1a\xff"
