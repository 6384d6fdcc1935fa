"""Dramatiq's own Redis keys (``dramatiq/brokers/redis/dispatch.lua``) in Darkroom's namespace.

Darkroom's keys live in :mod:`jobs.contract.constants`; these are the broker's, laid out by
:mod:`jobs.plumbing.dramatiq_compat` (which a test checks against what the broker really writes) in
the same ``NAMESPACE``, so nothing here spells a prefix:

* ``darkroom:{queue}`` list of ready message ids, ``darkroom:{queue}.msgs`` hash id → message
  (kept until acked, so in-flight messages are in it too);
* ``darkroom:{queue}.DQ`` / ``.DQ.msgs`` the delay queue (retries with backoff, delayed sends);
* ``darkroom:{queue}.XQ`` zset of dead-lettered ids by time, ``.XQ.msgs`` their bodies;
* ``darkroom:__acks__.{broker_id}.{queue}`` set of ids a worker process fetched and has not acked;
* ``darkroom:__heartbeats__`` zset of broker ids by their last command (ms).
"""

from __future__ import annotations

from typing import Final

from jobs.contract.constants import NAMESPACE, Queue
from jobs.plumbing import dramatiq_compat as compat

BROKER_HEARTBEATS_KEY: Final = compat.heartbeats_key(NAMESPACE)


def queue_key(queue: Queue | str) -> str:
    """The list KEDA's Redis scaler watches (``listName``)."""
    return compat.queue_key(NAMESPACE, str(queue))


def messages_key(queue: Queue | str) -> str:
    return compat.messages_key(NAMESPACE, str(queue))


def delay_queue_name(queue: Queue | str) -> str:
    return compat.delay_queue_name(str(queue))


def delayed_messages_key(queue: Queue | str) -> str:
    return messages_key(delay_queue_name(queue))


def dead_key(queue: Queue | str) -> str:
    return compat.dead_key(NAMESPACE, str(queue))


def dead_messages_key(queue: Queue | str) -> str:
    return compat.dead_messages_key(NAMESPACE, str(queue))


def acks_key(broker_id: str, queue: Queue | str) -> str:
    return compat.acks_key(NAMESPACE, broker_id, str(queue))


def canonical_queue(name: str) -> str:
    """``darkroom.upload.DQ`` → ``darkroom.upload`` (dead letters always live on the canonical queue)."""
    return compat.canonical_queue_name(name)
