"""Log redaction: configured secrets, secret-named fields and header values never reach a line."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from jobs.contract.settings import Settings
from jobs.runtime.logs import configure_logging
from jobs.runtime.redaction import MASK, Redactor

KEY = "dk_live_0123456789abcdef"
SIGNING_KEY = "signing-0123456789"
UNKNOWN_BEARER = "other-key-never-seen"  # not configured: masked for following a header name
UNKNOWN_KEY = "zzz-unknown-1"


@pytest.fixture
def captured(make_settings: Callable[..., Settings]) -> Iterator[Callable[[str], str]]:
    """Configure logging for a format; return what the root handler wrote so far."""
    stream = io.StringIO()

    def configure(log_format: str) -> str:
        settings = make_settings(
            api_keys={KEY: "acme", "k1": "acme"}, log_format=log_format, signing_key=SIGNING_KEY
        )
        configure_logging(settings)
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        return ""

    def output(log_format: str) -> str:
        if log_format:
            configure(log_format)
        return stream.getvalue()

    yield output
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def failing_request(api_key: str) -> None:
    headers = [(b"host", b"api"), (b"x-api-key", api_key.encode())]
    scope = {"type": "http", "headers": headers}
    raise RuntimeError(f"boom while serving {scope['type']}")


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_no_secret_in_lines_fields_or_tracebacks(captured: Callable[[str], str], log_format: str) -> None:
    captured(log_format)
    log = structlog.get_logger("t")
    log.info("request", headers={"x-api-key": KEY, "Authorization": f"Bearer {UNKNOWN_BEARER}"})
    log.info("settings", api_keys={KEY: "acme"}, note=f"configured {KEY} and {SIGNING_KEY}")
    logging.getLogger("uvicorn.error").warning("x-api-key: %s authorization: Bearer %s", KEY, UNKNOWN_KEY)
    try:
        failing_request(KEY)
    except RuntimeError:
        log.exception("http.unexpected")
    out = captured("")
    assert "Traceback" in out or "RuntimeError" in out
    assert KEY not in out and SIGNING_KEY not in out
    assert UNKNOWN_BEARER not in out and UNKNOWN_KEY not in out
    assert out.count(MASK) >= 5


def test_short_values_and_ordinary_text_are_left_alone() -> None:
    redactor = Redactor(["k1", "a-long-secret-value"])
    text = "k1 is short; Missing API key: send x-api-key or Authorization: Bearer."
    assert redactor.scrub_text(text) == text
    assert redactor.scrub_text("token a-long-secret-value!") == f"token {MASK}!"
    hook = "POST https://hooks.example.com/in?token=abc123xyz&x=1 failed"
    assert redactor.scrub_text(hook) == f"POST https://hooks.example.com/in?token={MASK}&x=1 failed"
    assert redactor.redact_fields(None, "info", {"event": "e", "password": "p", "n": [{"cookie": "c"}]}) == {
        "event": "e",
        "password": MASK,
        "n": [{"cookie": MASK}],
    }
