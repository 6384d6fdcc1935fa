"""Dashboard tokens: one purpose each, their lifetime, revocation by key rotation, CSRF bound to a session."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import SecretStr

from jobs.api.dashboard_auth import (
    LOGIN_LINK_TTL_S,
    SESSION_TTL_S,
    Viewer,
    check_csrf,
    csrf_token,
    issue,
    verify,
)
from jobs.contract.settings import Settings

OPERATOR = Viewer("operator", None)
ACME = Viewer("account", "acme")


@pytest.fixture
def keys() -> Settings:
    return Settings(api_keys={"k1": "acme", "k2": "globex"}, signing_key="sk", admin_key="adm")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``time.time()`` under the test's control (``clock[0] += 60`` moves it a minute on)."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.mark.parametrize("viewer", [OPERATOR, ACME])
def test_a_token_grants_its_viewer_for_its_use_only(keys: Settings, viewer: Viewer) -> None:
    session, link = issue(keys, viewer), issue(keys, viewer, use="login")
    assert verify(keys, session) == viewer and verify(keys, link, use="login") == viewer
    assert verify(keys, link) is None  # a login link is not a session cookie
    assert verify(keys, session, use="login") is None  # nor a session a login link
    for forged in ("", None, "v1.forged.token", session[:-2] + ("xx" if session[-2:] != "xx" else "yy")):
        assert verify(keys, forged) is None


def test_sessions_and_login_links_expire(keys: Settings, clock: list[float]) -> None:
    session, link = issue(keys, OPERATOR), issue(keys, OPERATOR, use="login")
    long_link = issue(keys, ACME, use="login", ttl_s=3600)  # `darkroom dashboard-link --ttl 3600`
    clock[0] += LOGIN_LINK_TTL_S - 5
    assert verify(keys, link, use="login") == OPERATOR
    clock[0] += 10
    assert verify(keys, link, use="login") is None
    assert verify(keys, long_link, use="login") == ACME  # a link lives as long as it was minted for
    assert verify(keys, session) == OPERATOR
    clock[0] += SESSION_TTL_S - LOGIN_LINK_TTL_S - 10
    assert verify(keys, session) == OPERATOR
    assert verify(keys, long_link, use="login") is None
    clock[0] += 15
    assert verify(keys, session) is None


@pytest.mark.parametrize(
    "change",
    [
        {"signing_key": SecretStr("rotated")},
        {"admin_key": SecretStr("new-admin")},
        {"api_keys": {"k1": "acme", "k2": "globex", "k3": "initech"}},
    ],
    ids=["signing_key", "admin_key", "api_keys"],
)
def test_rotating_any_key_ends_every_session(keys: Settings, change: dict[str, Any]) -> None:
    tokens = [issue(keys, OPERATOR), issue(keys, ACME)]
    rotated = keys.model_copy(update=change)
    assert [verify(keys, t) for t in tokens] == [OPERATOR, ACME]
    assert [verify(rotated, t) for t in tokens] == [None, None]


def test_a_token_only_grants_a_role_that_exists(keys: Settings) -> None:
    # verify looks the role up in the settings again: no operator without an admin key, no
    # viewer of an account that has no API key (even under a genuine signature)
    no_admin = keys.model_copy(update={"admin_key": SecretStr("")})
    assert verify(no_admin, issue(no_admin, OPERATOR)) is None
    assert verify(no_admin, issue(no_admin, ACME)) == ACME
    assert verify(keys, issue(keys, Viewer("account", "initech"))) is None


def test_csrf_tokens_are_bound_to_their_session(keys: Settings) -> None:
    mine, theirs = issue(keys, OPERATOR), issue(keys, ACME)
    token = csrf_token(keys, mine)
    assert check_csrf(keys, mine, token)
    assert not check_csrf(keys, theirs, token)
    assert not check_csrf(keys, mine, csrf_token(keys, theirs))
    assert not check_csrf(keys, mine, "")
    assert not check_csrf(keys, mine, "x" * 32)
    assert not check_csrf(keys.model_copy(update={"signing_key": SecretStr("rotated")}), mine, token)
    assert token == csrf_token(keys, mine) and len(token) <= 64  # stable; fits the form field
