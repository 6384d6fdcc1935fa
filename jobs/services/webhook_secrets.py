"""Per-account webhook signing secrets: derived, rotatable, with an overlap window.

With one ``WEBHOOK_SECRET`` for every account, any tenant that can verify its own
deliveries can forge another tenant's. So by default (``WEBHOOK_SIGNING=account``) each
account signs with its own secret, derived and never stored::

    secret(account, generation) = "whsec_" + base64url(HMAC-SHA256(WEBHOOK_SECRET,
                                                       "webhook:{account}:{generation}"))

Only the account's *generation* lives in Redis (``darkroom:webhook-secret:{account}``, a
hash: ``generation``, ``rotated_at``, ``previous``, ``previous_until``); an account that
never rotated is at generation 0. Rotating moves to the next generation and keeps the
previous one signing too for ``WEBHOOK_SECRET_OVERLAP_HOURS``: meanwhile every delivery
carries both signatures (``t=…,v1=new,v1=old``), so receivers switch secrets without
missing one (:func:`jobs.services.webhooks.verify` accepts any ``v1``). Rotating again ends the
previous overlap. Changing ``WEBHOOK_SECRET`` itself changes every account's secret.

``WEBHOOK_SIGNING=shared`` signs every delivery with ``WEBHOOK_SECRET`` itself: for a
deployment with one account only (:class:`jobs.contract.settings.Settings` refuses it with more).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, cast

from redis.asyncio import Redis

from jobs.contract.constants import NAMESPACE
from jobs.contract.errors import Conflict, Internal
from jobs.contract.settings import Settings
from jobs.plumbing.store.errors import redis_errors

PREFIX: Final = "whsec_"

# One atomic step: two rotations at once still move one generation each, never to the same one.
ROTATE: Final = """
local generation = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0')
redis.call('HSET', KEYS[1], 'generation', generation + 1, 'previous', generation,
           'previous_until', ARGV[1], 'rotated_at', ARGV[2])
return generation + 1
"""


def state_key(account: str) -> str:
    return f"{NAMESPACE}:webhook-secret:{account}"


def derive(master: str, account: str, generation: int) -> str:
    """The signing secret of ``account`` at ``generation``."""
    mac = hmac.new(master.encode(), f"webhook:{account}:{generation}".encode(), hashlib.sha256)
    return PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SecretState:
    """Where an account's secret stands (never the secret itself)."""

    generation: int = 0
    rotated_at: float | None = None
    previous: int | None = None
    previous_until: float | None = None

    def overlapping(self, now: float) -> bool:
        return self.previous is not None and self.previous_until is not None and now < self.previous_until

    def as_dict(self, now: float) -> dict[str, object]:
        return {
            "generation": self.generation,
            "rotated_at": _iso(self.rotated_at),
            "previous_valid_until": _iso(self.previous_until) if self.overlapping(now) else None,
        }


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def master_secret(settings: Settings) -> str:
    master = settings.webhook_secret.get_secret_value()
    if not master:
        raise Internal("DARKROOM_WEBHOOK_SECRET is not set: webhooks cannot be signed.")
    return master


async def load_state(redis: Redis, account: str) -> SecretState:
    with redis_errors():
        raw = cast(dict[bytes, bytes], await redis.hgetall(state_key(account)))
    if not raw:
        return SecretState()
    number = {k.decode(): float(v) for k, v in raw.items()}
    previous = number.get("previous")
    return SecretState(
        generation=int(number.get("generation", 0)),
        rotated_at=number.get("rotated_at"),
        previous=None if previous is None else int(previous),
        previous_until=number.get("previous_until"),
    )


async def signing_secrets(
    redis: Redis, settings: Settings, account: str, now: float | None = None
) -> list[str]:
    """The secrets a delivery to ``account`` is signed with now: current first, then the
    previous one while its overlap lasts (``shared`` mode: ``WEBHOOK_SECRET`` alone)."""
    master = master_secret(settings)
    if settings.webhook_signing == "shared":
        return [master]
    state = await load_state(redis, account)
    secrets = [derive(master, account, state.generation)]
    if state.overlapping(time.time() if now is None else now):
        assert state.previous is not None
        secrets.append(derive(master, account, state.previous))
    return secrets


async def rotate(
    redis: Redis, settings: Settings, account: str, now: float | None = None
) -> tuple[str, SecretState]:
    """Move ``account`` to a new secret; the previous one keeps signing for the overlap window."""
    master = master_secret(settings)
    if settings.webhook_signing == "shared":
        raise Conflict(
            "Webhooks are signed with the shared DARKROOM_WEBHOOK_SECRET (WEBHOOK_SIGNING=shared): "
            "there is no per-account secret to rotate."
        )
    moment = time.time() if now is None else now
    until = moment + settings.webhook_secret_overlap_hours * 3600
    with redis_errors():
        generation = int(await redis.eval(ROTATE, 1, state_key(account), repr(until), repr(moment)))
    state = SecretState(generation, moment, generation - 1, until)
    return derive(master, account, generation), state
