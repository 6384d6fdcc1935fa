"""Signed webhooks: how Darkroom signs a delivery, and how a receiver verifies it.

When an upload or transform with a ``callback_url`` reaches a terminal state, Darkroom
POSTs a JSON event to that URL::

    POST /your/callback HTTP/1.1
    Content-Type: application/json
    User-Agent: Darkroom-Webhooks/1
    Darkroom-Event: image.ready                     (or image.failed)
    Darkroom-Delivery: dlv_3f0c…                    (same id on every retry: dedupe on it)
    Darkroom-Signature: t=1718000000,v1=5257a869…

    {"id": "dlv_3f0c…", "type": "image.ready", "created": 1718000000, "data": {…the Image…}}

The signature is ``v1 = hex(HMAC-SHA256(secret, f"{t}." + raw body))`` where ``secret``
is the receiving account's own webhook secret (``whsec_…``, shown once by
``POST /v1/webhook-secret/rotate``; see :mod:`jobs.services.webhook_secrets`), or
``DARKROOM_WEBHOOK_SECRET`` itself when the deployment signs with one shared secret.
A receiver verifies it on the **raw** request bytes (before any JSON parsing)::

    from jobs.services.webhooks import verify

    if not verify(secret, request.headers["Darkroom-Signature"], raw_body):
        return 400

``verify`` compares in constant time, rejects timestamps more than ``tolerance_s``
(5 minutes) away from now (replay protection) and accepts a header with several
``v1=`` values, or a list of secrets, so a secret can be rotated without downtime: after a
rotation every delivery carries ``v1=new,v1=old`` for the overlap window.
Answer any 2xx quickly to acknowledge; anything else (or no answer within the timeout)
is retried with backoff for about a day. Deliveries are at-least-once: dedupe on the
delivery id.

This module is pure (no I/O, no settings) so receivers can copy or import it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from jobs.contract.payloads import WebhookJob

SIGNATURE_HEADER: Final = "Darkroom-Signature"
EVENT_HEADER: Final = "Darkroom-Event"
DELIVERY_HEADER: Final = "Darkroom-Delivery"
USER_AGENT: Final = "Darkroom-Webhooks/1"
SCHEME: Final = "v1"
DEFAULT_TOLERANCE_S: Final = 300
MAX_HEADER_CHARS: Final = 4096

Secrets = str | Sequence[str]


def _secrets(secret: Secrets) -> list[bytes]:
    values = [secret] if isinstance(secret, str) else list(secret)
    return [value.encode() for value in values if value]


def _digest(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: Secrets, body: bytes, timestamp: int) -> str:
    """The ``Darkroom-Signature`` value ``t=<unix>,v1=<hex>`` (one ``v1`` per secret).

    Pass several secrets while rotating: receivers holding either secret verify.
    """
    keys = _secrets(secret)
    if not keys:
        raise ValueError("a webhook secret is required")
    return ",".join([f"t={int(timestamp)}", *(f"{SCHEME}={_digest(k, body, timestamp)}" for k in keys)])


def parse_signature(header: str) -> tuple[int, list[str]] | None:
    """``(timestamp, [v1 signatures])`` or ``None`` if the header is malformed.

    Unknown schemes (``v0=…``) are ignored; exactly one ``t`` is required.
    """
    if not header or len(header) > MAX_HEADER_CHARS:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not value:
            return None
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify(
    secret: Secrets,
    header: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: int | None = None,
) -> bool:
    """True if ``header`` is a valid, fresh signature of ``body`` under ``secret`` (or any of them)."""
    parsed = parse_signature(header)
    keys = _secrets(secret)
    if parsed is None or not keys:
        return False
    timestamp, signatures = parsed
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    matched = False
    for key in keys:
        expected = _digest(key, body, timestamp).encode()
        for candidate in signatures:
            # no early exit: every pair is compared, in constant time
            matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    return matched


def delivery_id_for(job: WebhookJob) -> str:
    """Deterministic per job: every retry of one delivery carries the same id."""
    seed = f"{job.image_id}:{job.job_id}:{job.event}".encode()
    return "dlv_" + hashlib.sha256(seed).hexdigest()[:24]


def build_delivery(
    job: WebhookJob, delivery_id: str, now: int, *, secret: Secrets
) -> tuple[bytes, dict[str, str]]:
    """The request body and headers of one delivery attempt, signed at ``now`` with ``secret``."""
    event = {"id": delivery_id, "type": job.event, "created": now, "data": job.image}
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: job.event,
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: sign(secret, body, now),
    }
    return body, headers
