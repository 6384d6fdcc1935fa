"""webhook: POST a signed event to the caller's ``callback_url``; record every attempt.

One attempt per message. The URL is re-checked against the SSRF guard on every attempt
(DNS may have changed); a refused URL is a permanent failure (recorded, never retried).
A 2xx answer is a delivery; any other status (3xx included: redirects are never followed),
a timeout or a connection error is recorded and raised as a transient error, so Dramatiq
redelivers the message later with backoff (:func:`WEBHOOK_ACTOR_OPTIONS`). Every retry
carries the same delivery id, so receivers can dedupe.

Each delivery is signed with its account's own secret (:mod:`jobs.services.webhook_secrets`), and
during a rotation's overlap with the previous one too.

Attempts are kept in ``darkroom:webhooks:{image_id}`` (newest first, ≤100 entries, 7 days;
:mod:`jobs.plumbing.store.webhook_attempts`) and served by ``GET /v1/images/{id}/webhooks``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from jobs.contract.errors import Internal, SourceUnreachable, SourceUnresolvable, Unavailable
from jobs.contract.payloads import WebhookJob
from jobs.contract.settings import Settings
from jobs.plumbing.dramatiq_compat import BACKOFF_MAX_EXPONENT, RETRIES_MAX_BACKOFF_MS
from jobs.plumbing.netguard import Target, pin
from jobs.plumbing.store.webhook_attempts import Attempt, previous_attempts, record_attempt
from jobs.services.webhook_secrets import signing_secrets
from jobs.services.webhooks import build_delivery, delivery_id_for
from worker.context import WorkerContext
from worker.fetch import pinned_request_args
from worker.results import should_retry

log = structlog.get_logger(__name__)

MIN_BACKOFF_MS = 60_000
DRAMATIQ_MAX_BACKOFF_MS = RETRIES_MAX_BACKOFF_MS  # Retries caps every single delay at 7 days
MAX_EXPONENT = BACKOFF_MAX_EXPONENT  # dramatiq.common.compute_backoff's default


# --- retry schedule ---------------------------------------------------------------------------------


def backoff_range_ms(retries: int, min_backoff: int, max_backoff: int) -> tuple[float, float, float]:
    """``(low, expected, high)`` delay Dramatiq picks after the ``retries``-th retry (0-based).

    Mirrors ``compute_backoff``: ``b = min_backoff·2^retries`` jittered to ``b·U(1, 2)``;
    past ``max_backoff`` it is redrawn as ``max_backoff·U(0.5, 1)``.
    """
    base = float(min_backoff * 2 ** min(retries, MAX_EXPONENT))
    cap = float(max_backoff)
    if 2 * base <= cap:
        return base, 1.5 * base, 2 * base
    if base >= cap:
        return 0.5 * cap, 0.75 * cap, cap
    uncapped = cap / base - 1  # P(base·U ≤ cap)
    expected = uncapped * (base + cap) / 2 + (1 - uncapped) * 0.75 * cap
    return min(base, 0.5 * cap), expected, cap


def webhook_backoffs(settings: Settings) -> tuple[int, int, int]:
    """``(min_backoff, max_backoff, max_retries)`` whose expected delays add up to the window."""
    window_ms = settings.webhook_retry_hours * 3_600_000
    max_backoff = int(min(max(window_ms / 4, 1), DRAMATIQ_MAX_BACKOFF_MS))
    min_backoff = max(1, min(MIN_BACKOFF_MS, max_backoff))
    total, retries = 0.0, 0
    while total < window_ms and retries < 1000:
        total += backoff_range_ms(retries, min_backoff, max_backoff)[1]
        retries += 1
    return min_backoff, max_backoff, retries


def WEBHOOK_ACTOR_OPTIONS(settings: Settings) -> dict[str, Any]:
    """Dramatiq options of the ``webhook`` actor: retried for about ``WEBHOOK_RETRY_HOURS``.

    ``retry_when`` is included because the broker-wide ``Retries(retry_when=...)`` would
    otherwise override the actor's ``max_retries`` (Dramatiq consults ``retry_when`` first).

    Defaults (24 h) → ``min_backoff`` 1 min, ``max_backoff`` 6 h, ``max_retries`` 12, i.e.
    13 attempts. Delay before attempt *n* (jitter as in ``compute_backoff``)::

        attempt  delay range       expected   cumulative (expected)
        2        1–2 min           1.5 min    1.5 min
        3        2–4 min           3 min      4.5 min
        4        4–8 min           6 min      10.5 min
        5        8–16 min          12 min     22.5 min
        6        16–32 min         24 min     46.5 min
        7        32–64 min         48 min     1.6 h
        8        64–128 min        1.6 h      3.2 h
        9        128–256 min       3.2 h      6.4 h
        10       3–6 h             4.7 h      11.1 h
        11       3–6 h             4.5 h      15.6 h
        12       3–6 h             4.5 h      20.1 h
        13       3–6 h             4.5 h      24.6 h    (range 16–33 h)
    """
    min_backoff, max_backoff, retries = webhook_backoffs(settings)
    return {
        "max_retries": retries,
        "min_backoff": min_backoff,
        "max_backoff": max_backoff,
        "retry_when": should_retry(retries),
    }


# --- delivery --------------------------------------------------------------------------------------


async def post(
    client: httpx.AsyncClient, target: Target, body: bytes, headers: dict[str, str], timeout: float
) -> int:
    """POST to the pinned target and return the status without reading the answer's body;
    bounded in total by ``timeout``."""
    args = pinned_request_args(target, headers)
    async with (
        asyncio.timeout(timeout),
        client.stream(
            "POST", target.url, content=body, timeout=timeout, follow_redirects=False, **args
        ) as response,
    ):
        return response.status_code


def describe_failure(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    return f"{type(exc).__name__}: {exc}"[:500]


async def run_webhook(ctx: WorkerContext, job: WebhookJob) -> None:
    """Deliver ``job`` once; raise a transient error to be retried, a permanent one to give up."""
    delivery_id = delivery_id_for(job)
    attempt_no = await previous_attempts(ctx.redis, job.image_id, delivery_id) + 1
    started = time.monotonic()

    async def record(status_code: int | None, error: str | None) -> Attempt:
        entry = Attempt(
            delivery_id=delivery_id,
            event=job.event,
            url=job.url,
            attempt=attempt_no,
            at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            status_code=status_code,
            error=error,
            duration_ms=round((time.monotonic() - started) * 1000),
            delivered=status_code is not None and 200 <= status_code < 300,
        )
        await record_attempt(ctx.redis, job.image_id, entry)
        return entry

    with structlog.contextvars.bound_contextvars(
        delivery_id=delivery_id, webhook_host=urlsplit(job.url).hostname, webhook_attempt=attempt_no
    ):
        try:
            target = await pin(job.url, allow_private=ctx.settings.allow_private_sources)
        except SourceUnresolvable as exc:  # DNS hiccup: worth another try
            await record(None, exc.message)
            raise Unavailable(f"Webhook host does not resolve: {exc.message}") from exc
        except SourceUnreachable as exc:
            await record(None, exc.message)
            log.warning("webhook.refused", error_message=exc.message)
            raise
        try:  # the account's own secret(s): another tenant's can never verify, nor forge, these
            secrets = await signing_secrets(ctx.redis, ctx.settings, job.account)
        except Internal:
            await record(None, "DARKROOM_WEBHOOK_SECRET is not set")
            raise

        body, headers = build_delivery(job, delivery_id, int(time.time()), secret=secrets)
        timeout = ctx.settings.webhook_timeout
        try:
            status: int | None = await post(ctx.http, target, body, headers, timeout)
            error = None
        except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as exc:
            status, error = None, describe_failure(exc, timeout)
        entry = await record(status, error)
        if not entry.delivered:
            reason = error or f"HTTP {status}"
            log.info("webhook.failed", status_code=status, error=error, duration_ms=entry.duration_ms)
            raise Unavailable(f"Webhook delivery failed ({reason}).")
        log.info("webhook.delivered", status_code=status, duration_ms=entry.duration_ms)
