"""Who is looking at ``/dashboard``: signed session cookies, login links and CSRF tokens.

Two roles:

* **operator** — logged in with ``DARKROOM_ADMIN_KEY``: every account's recent images and
  failures, dead letters, and the requeue button;
* **account** — logged in with an ordinary API key: queues, workers and totals (shared by
  everyone) and only that account's images and failures.

The session is a stateless token ``v1.<payload>.<hmac>`` (HMAC-SHA256 over a key derived
from the signing key, the admin key and the API keys, so rotating any of them logs
everyone out) in an ``HttpOnly; SameSite=Strict`` cookie. ``darkroom dashboard-link``
mints a short-lived login link for headless browsers and for ops who'd rather not paste a
key into a form. POSTs carry a CSRF token bound to the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Final, Literal

from jobs.api.auth import account_for
from jobs.settings import Settings

COOKIE: Final = "darkroom_dashboard"
SESSION_TTL_S: Final = 12 * 3600
LOGIN_LINK_TTL_S: Final = 10 * 60
Role = Literal["operator", "account"]
Use = Literal["session", "login"]


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role
    account: str | None  # None for operators

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    @property
    def label(self) -> str:
        return "operator" if self.operator else f"account {self.account}"


def _secret(settings: Settings) -> bytes:
    material = json.dumps(
        [
            settings.signing_key.get_secret_value(),
            settings.admin_key.get_secret_value(),
            sorted(settings.api_keys.items()),
        ]
    )
    return hashlib.sha256(b"darkroom-dashboard\0" + material.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(settings: Settings, viewer: Viewer, use: Use = "session", ttl_s: float | None = None) -> str:
    ttl = ttl_s if ttl_s is not None else (SESSION_TTL_S if use == "session" else LOGIN_LINK_TTL_S)
    payload = _b64(
        json.dumps(
            {"role": viewer.role, "account": viewer.account, "use": use, "exp": int(time.time() + ttl)}
        ).encode()
    )
    signature = _b64(hmac.new(_secret(settings), payload.encode(), hashlib.sha256).digest())
    return f"v1.{payload}.{signature}"


def verify(settings: Settings, token: str | None, use: Use = "session") -> Viewer | None:
    if not token or token.count(".") != 2:
        return None
    version, payload, signature = token.split(".")
    expected = _b64(hmac.new(_secret(settings), payload.encode(), hashlib.sha256).digest())
    if version != "v1" or not hmac.compare_digest(signature, expected):
        return None
    try:
        body = json.loads(_unb64(payload))
    except ValueError:
        return None
    if body.get("use") != use or int(body.get("exp", 0)) < time.time():
        return None
    role = body.get("role")
    if role == "operator" and settings.admin_key.get_secret_value():
        return Viewer("operator", None)
    account = body.get("account")
    if role == "account" and isinstance(account, str) and account in settings.accounts():
        return Viewer("account", account)
    return None


def login_with_key(settings: Settings, key: str) -> Viewer | None:
    """The admin key makes an operator; an API key, a viewer of that account."""
    admin = settings.admin_key.get_secret_value()
    if admin and hmac.compare_digest(key.encode(), admin.encode()):
        return Viewer("operator", None)
    account = account_for(key, settings.api_keys)
    return Viewer("account", account) if account is not None else None


def csrf_token(settings: Settings, session: str) -> str:
    return _b64(hmac.new(_secret(settings), b"csrf\0" + session.encode(), hashlib.sha256).digest())[:32]


def check_csrf(settings: Settings, session: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(settings, session), given)
