"""Secrets never reach a log line: API keys, signing keys, passwords, the headers that carry them.

Two structlog processors, installed by :func:`jobs.runtime.logs.configure_logging` for every
process and both log formats:

* :meth:`Redactor.redact_fields` (before rendering) masks the *values* of fields whose
  names say they hold a secret (``authorization``, ``x-api-key``, ``password``, …), at any
  depth of dicts and lists, so a logged header dict or settings dump is harmless.
* :meth:`Redactor.scrub` (after rendering, on the final text) replaces every configured
  secret wherever it appears — in a traceback, an exception message, a repr — and masks
  whatever follows a secret-carrying header name (``x-api-key: …``, ``Authorization:
  Bearer …``, ``(b'x-api-key', b'…')``, ``?token=…`` in a logged URL), so a key that is
  not ours (a wrong one, a receiver's) is masked too.

Values shorter than :data:`MIN_SECRET_CHARS` are not scrubbed by value: masking ``"k1"``
everywhere would garble every line, and keys that short are not secrets anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from jobs.contract.settings import Settings

MASK: Final = "[redacted]"
MIN_SECRET_CHARS: Final = 8
MAX_DEPTH: Final = 6
SECRET_FIELDS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api_key",
        "api-key",
        "api_keys",
        "admin_key",
        "signing_key",
        "webhook_secret",
        "secret",
        "password",
        "cookie",
        "set-cookie",
        "token",
        "csrf",
    }
)
# a secret-carrying name, the punctuation of any rendering (``: ``, ``=``, ``', b'``, ``": "``),
# an optional auth scheme, then the value
HEADER_VALUE: Final = re.compile(
    r"(?i)(?P<name>\b(?:proxy-)?authorization|\bx-api-key|\bapi[_-]key|\badmin_key|\bcookie|\bpassword"
    r"|\b(?:access_)?token|\bsecret)"
    r"(?P<sep>['\"]?\s*[:=,]\s*(?-i:b)?['\"]?\s*)(?P<scheme>(?:bearer|basic)\s+)?"
    r"(?P<value>(?!(?:bearer|basic)\b)[^&\s'\",;)}\]]+)"
)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold: API keys, keys, secrets, and passwords in URLs."""
    values = [
        *settings.api_keys,
        settings.api_key.get_secret_value(),
        settings.admin_key.get_secret_value(),
        settings.signing_key.get_secret_value(),
        settings.webhook_secret.get_secret_value(),
    ]
    values += [urlsplit(url).password or "" for url in (settings.redis_url, settings.api_url or "")]
    return values


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_CHARS:
                forms |= {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}  # as rendered
        # longest first: a secret containing another is masked whole
        self._secrets = (
            re.compile("|".join(map(re.escape, sorted(forms, key=len, reverse=True)))) if forms else None
        )

    def redact_fields(self, logger: Any, method: str, event_dict: Any) -> Any:
        return _masked(event_dict, 0)

    def scrub(self, logger: Any, method: str, rendered: Any) -> Any:
        if isinstance(rendered, bytes | bytearray):
            return self.scrub_text(bytes(rendered).decode(errors="replace")).encode()
        return self.scrub_text(rendered) if isinstance(rendered, str) else rendered

    def scrub_text(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        return HEADER_VALUE.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    value = match["value"]
    if value == MASK or value.startswith("[redacted"):
        return match[0]
    return f"{match['name']}{match['sep']}{match['scheme'] or ''}{MASK}"


def _masked(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: MASK if _is_secret_name(k) and v not in (None, "") else _masked(v, depth + 1)
            for k, v in value.items()
        }
    if type(value) is tuple and len(value) == 2 and _is_secret_name(value[0]):
        return (value[0], MASK)  # a (name, value) header pair, as ASGI scopes hold them
    if type(value) in (list, tuple):
        return type(value)(_masked(item, depth + 1) for item in value)
    return value


def _is_secret_name(name: object) -> bool:
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return isinstance(name, str) and name.lower() in SECRET_FIELDS
