"""Image ids: ``image_`` + 24 lowercase base32 characters (120 random bits)."""

from __future__ import annotations

import base64
import re
import secrets

from jobs.contract.errors import InvalidRequest, NotFound

ID_PREFIX = "image_"
ID_PATTERN = re.compile(r"^image_[a-z2-7]{24}$")


def new_image_id() -> str:
    return ID_PREFIX + base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def new_token(nbytes: int = 12) -> str:
    """A short random token (job attempt ids, purge ids)."""
    return secrets.token_hex(nbytes)


def is_image_id(value: str) -> bool:
    return bool(ID_PATTERN.fullmatch(value))


def check_image_id(value: str, *, field: str = "id", missing_is_404: bool = True) -> str:
    """Validate an id from outside. A malformed id can't exist, so by default it is a 404
    (no information leak, and never a path into storage)."""
    if is_image_id(value):
        return value
    if missing_is_404:
        raise NotFound(f"No image {value[:64]!r}.", field=field)
    raise InvalidRequest(f"{field} must look like image_ + 24 base32 characters.", field=field)
