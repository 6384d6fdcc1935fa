"""Who is looking at ``/dashboard``: signed session cookies, login links and CSRF tokens.

Two roles:

* **operator** — logged in with ``DARKROOM_ADMIN_KEY``: every account's recent images and
  failures, dead letters, and the requeue button;
* **account** — logged in with an ordinary API key: queues, workers and totals (shared by
  everyone) and only that account's images and failures.

Sessions and login links are stateless ``itsdangerous`` tokens (a timestamped, HMAC-SHA256
signed JSON payload) under a key derived from the signing key, the admin key and the API
keys, so rotating any of them logs everyone out. Each use signs with its own salt, so a
session cookie is never accepted as a login link or the other way round. The session lives
in an ``HttpOnly; SameSite=Strict`` cookie. ``darkroom dashboard-link`` mints a short-lived
login link for headless browsers and for ops who'd rather not paste a key into a form. POSTs
carry a CSRF token: the session token's signature under a third salt, so it is bound to the
session it was shown with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final, Literal

from itsdangerous import BadData, Signer, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, ValidationError

from jobs.api.auth import account_for
from jobs.contract.settings import Settings

COOKIE: Final = "darkroom_dashboard"
SESSION_TTL_S: Final = 12 * 3600
LOGIN_LINK_TTL_S: Final = 10 * 60
Role = Literal["operator", "account"]
Use = Literal["session", "login"]
SALT: Final = "darkroom.dashboard."  # + the use: "session", "login", "csrf"


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


class _Claims(BaseModel):
    """What a token says; its age is carried by the signer's timestamp."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    account: str | None
    ttl: int  # seconds the token was issued for (login links choose theirs: `dashboard-link --ttl`)


def _secret(settings: Settings) -> str:
    """Every key that grants access: changing any of them invalidates every token."""
    return json.dumps(
        [
            settings.signing_key.get_secret_value(),
            settings.admin_key.get_secret_value(),
            sorted(settings.api_keys.items()),
        ]
    )


def _serializer(settings: Settings, use: Use) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        _secret(settings), salt=SALT + use, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _csrf_signer(settings: Settings) -> Signer:
    return Signer(_secret(settings), salt=SALT + "csrf", digest_method=hashlib.sha256)


def issue(settings: Settings, viewer: Viewer, use: Use = "session", ttl_s: float | None = None) -> str:
    ttl = ttl_s if ttl_s is not None else (SESSION_TTL_S if use == "session" else LOGIN_LINK_TTL_S)
    claims = _Claims(role=viewer.role, account=viewer.account, ttl=int(ttl))
    return _serializer(settings, use).dumps(claims.model_dump())


def verify(settings: Settings, token: str | None, use: Use = "session") -> Viewer | None:
    """The viewer a token still grants, or None (forged, another use's, expired, or revoked)."""
    if not token:
        return None
    serializer = _serializer(settings, use)
    try:
        claims = _Claims.model_validate(serializer.loads(token))  # genuine, and signed for this use
        serializer.loads(token, max_age=claims.ttl)  # and younger than the life it was issued with
    except (BadData, ValidationError):
        return None
    # the key that signed it may be gone since: the admin key unset, the account's API keys removed
    if claims.role == "operator" and settings.admin_key.get_secret_value():
        return Viewer("operator", None)
    if claims.role == "account" and claims.account in settings.accounts():
        return Viewer("account", claims.account)
    return None


def login_with_key(settings: Settings, key: str) -> Viewer | None:
    """The admin key makes an operator; an API key, a viewer of that account."""
    admin = settings.admin_key.get_secret_value()
    if admin and hmac.compare_digest(key.encode(), admin.encode()):
        return Viewer("operator", None)
    account = account_for(key, settings.api_keys)
    return Viewer("account", account) if account is not None else None


def csrf_token(settings: Settings, session: str) -> str:
    return _csrf_signer(settings).get_signature(session).decode()


def check_csrf(settings: Settings, session: str, given: str) -> bool:
    return _csrf_signer(settings).verify_signature(session, given)
