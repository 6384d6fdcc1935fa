"""Signed render URLs: ``/render/{signature}/{options}/{id}.{ext}`` (imgproxy-style).

* ``options`` is the operation pipeline as base64url(canonical JSON), so every operation
  and parameter of docs/design.md §3 is expressible and one pipeline has exactly one spelling.
* ``signature`` is base64url(account tag ‖ HMAC-SHA256(account key, "{options}/{id}.{ext}")).
  The account tag (12 bytes, an HMAC of the account under ``SIGNING_KEY``) names the
  account without spelling it; the account key is derived from ``SIGNING_KEY`` and the tag.
  So the signature is checked from the URL alone, before any record is read: a bad
  signature is a 403 whether or not the id exists, and the answer never tells which.
  After the record is read, the tag must be its account's, so a URL signed for one
  account's image can never be replayed against another's; only the API (which checks
  ownership) hands out signatures.
* URLs minted before the tag (a 43-character signature, no tag) still verify, against the
  record's account; an unknown id is then a 403 too, like a bad signature.
* The cache key is ``derived/{id}/{digest}.{ext}`` with ``digest`` over the canonical
  pipeline and the output format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jobs.contract.constants import EXTENSION_FORMATS, FORMAT_EXTENSIONS
from jobs.contract.errors import Forbidden, InvalidRequest
from jobs.contract.ids import ID_PATTERN
from jobs.contract.operations import Convert, Operation, canonical_json, validate_operations

PATH_RE = re.compile(
    r"^/render/(?P<sig>[A-Za-z0-9_-]{59}|[A-Za-z0-9_-]{43})/(?P<opts>[A-Za-z0-9_-]*)/(?P<id>[^/.]+)\.(?P<ext>[a-z]+)$"
)
MAX_OPTIONS_CHARS = 4096
TAG_BYTES = 12
MAC_BYTES = 32
LEGACY_SIGNATURE_CHARS = 43  # untagged: base64url of the 32-byte MAC alone


@dataclass(frozen=True, slots=True)
class RenderRef:
    signature: str
    options: str
    image_id: str
    ext: str

    @property
    def format(self) -> str:
        return EXTENSION_FORMATS[self.ext]

    @property
    def legacy(self) -> bool:
        """Signed before account tags: only the record's account can check it."""
        return len(self.signature) == LEGACY_SIGNATURE_CHARS

    @property
    def path(self) -> str:
        return f"/render/{self.signature}/{self.options}/{self.image_id}.{self.ext}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_options(operations: list[Operation]) -> str:
    return _b64(canonical_json(operations).encode())


def decode_options(options: str) -> list[Operation]:
    if len(options) > MAX_OPTIONS_CHARS:
        raise InvalidRequest("Render options are too long.", field="options")
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(options + "=" * (-len(options) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise InvalidRequest("Render options are not valid base64url JSON.", field="options") from exc
    return validate_operations(raw)


def _required(signing_key: str) -> bytes:
    if not signing_key:
        raise InvalidRequest("Render URLs need DARKROOM_SIGNING_KEY to be set.", field="SIGNING_KEY")
    return signing_key.encode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def account_key(signing_key: str, account: str) -> bytes:
    """The key of untagged (legacy) signatures."""
    return hmac.new(_required(signing_key), f"darkroom-render:{account}".encode(), hashlib.sha256).digest()


def account_tag(signing_key: str, account: str) -> bytes:
    tag = hmac.new(_required(signing_key), f"darkroom-render-tag:{account}".encode(), hashlib.sha256)
    return tag.digest()[:TAG_BYTES]


def _tag_key(signing_key: str, tag: bytes) -> bytes:
    return hmac.new(_required(signing_key), b"darkroom-render-key:" + tag, hashlib.sha256).digest()


def _message(options: str, image_id: str, ext: str) -> bytes:
    return f"{options}/{image_id}.{ext}".encode()


def sign(signing_key: str, account: str, options: str, image_id: str, ext: str) -> str:
    tag = account_tag(signing_key, account)
    mac = hmac.new(_tag_key(signing_key, tag), _message(options, image_id, ext), hashlib.sha256)
    return _b64(tag + mac.digest())


def _legacy_sign(signing_key: str, account: str, options: str, image_id: str, ext: str) -> str:
    mac = hmac.new(account_key(signing_key, account), _message(options, image_id, ext), hashlib.sha256)
    return _b64(mac.digest())


def check_format(operations: list[Operation], fmt: str) -> None:
    """The URL's extension decides the format; a ``convert`` must not contradict it."""
    for index, op in enumerate(operations):
        if isinstance(op, Convert) and op.format != fmt:
            field = f"operations[{index}].format"
            raise InvalidRequest(
                f"{field}: {op.format} contradicts the .{FORMAT_EXTENSIONS[fmt]} extension.", field=field
            )


def build_path(signing_key: str, account: str, image_id: str, operations: list[Operation], fmt: str) -> str:
    check_format(operations, fmt)
    options = encode_options(operations)
    ext = FORMAT_EXTENSIONS[fmt]
    return RenderRef(sign(signing_key, account, options, image_id, ext), options, image_id, ext).path


def parse(url_or_path: str) -> RenderRef:
    """A render URL (absolute or path) → its parts; anything else → InvalidRequest."""
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
    match = PATH_RE.match(path)
    if match is None or not ID_PATTERN.fullmatch(match["id"]) or match["ext"] not in EXTENSION_FORMATS:
        raise InvalidRequest(
            "Not a Darkroom render URL (/render/{signature}/{options}/{id}.{ext}).", field="url"
        )
    return RenderRef(match["sig"], match["opts"], match["id"], match["ext"])


def verify_signature(signing_key: str, ref: RenderRef) -> bytes:
    """The account tag of a tagged URL whose signature holds; no record is needed (403 otherwise).

    Untagged (legacy) URLs cannot be checked without their record's account: see :func:`verify`.
    """
    raw = b"" if ref.legacy else _unb64(ref.signature)
    tag, mac = raw[:TAG_BYTES], raw[TAG_BYTES:]
    expected = hmac.new(
        _tag_key(signing_key, tag), _message(ref.options, ref.image_id, ref.ext), hashlib.sha256
    )
    # compared even for a legacy or short signature: the same work whatever was sent
    if not hmac.compare_digest(expected.digest(), mac.ljust(MAC_BYTES, b"\0")) or len(tag) != TAG_BYTES:
        raise Forbidden("Invalid render URL signature.")
    return tag


def verify(signing_key: str, account: str, ref: RenderRef) -> None:
    """The signature holds and was made for ``account`` (the image's owner); 403 otherwise."""
    if ref.legacy:
        expected = _legacy_sign(signing_key, account, ref.options, ref.image_id, ref.ext)
        if not hmac.compare_digest(expected, ref.signature):
            raise Forbidden("Invalid render URL signature.")
        return
    tag = verify_signature(signing_key, ref)
    if not hmac.compare_digest(tag, account_tag(signing_key, account)):
        raise Forbidden("Invalid render URL signature.")


def cache_digest(operations: list[Operation], fmt: str) -> str:
    return hashlib.sha256(f"{canonical_json(operations)}|{fmt}".encode()).hexdigest()[:32]
