"""Every Dramatiq internal Darkroom relies on, in one place (Dramatiq pinned to 2.2.x).

Dramatiq's documented API (``dramatiq.actor``, ``Message``, ``Middleware`` and the
middleware classes, ``RedisBroker(...)`` and its public methods, ``dramatiq.errors``) is
used wherever it is needed. What Dramatiq does not promise is reached only through here:

* the Redis broker's Lua ``dispatch`` script, its argument layout and its private helpers
  (``_max_unpack_size``, ``_should_do_maintenance``, the ``do_<command>`` attributes), which
  :mod:`jobs.plumbing.async_enqueue` replays on an asyncio client and :mod:`worker.maintenance` runs
  on a schedule;
* the Redis keys that script writes (:mod:`jobs.services.admin.keys` names them in Darkroom's namespace);
* the message options the broker and ``Retries`` write (``redis_message_id``, ``retries``,
  ``traceback``);
* ``dramatiq.common`` helpers, the AsyncIO middleware's loop thread
  (``dramatiq.asyncio.get_event_loop_thread``), the consumer's and the worker's attributes,
  and the Prometheus middleware's module global.

``tests/jobs/test_dramatiq_compat.py`` checks each of these against the installed Dramatiq
(and what its broker really writes to Redis), so an upgrade that changes one fails there,
loudly, instead of somewhere in production. Self-contained on purpose: it imports only
Dramatiq and the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeAlias
from uuid import uuid4

from dramatiq import Consumer, Message
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import compute_backoff, current_millis, dq_name
from dramatiq.middleware import prometheus as _prometheus
from dramatiq.middleware.retries import DEFAULT_MAX_BACKOFF

__all__ = [
    "BACKOFF_MAX_EXPONENT",
    "DISPATCH_ARGS",
    "RETRIES_MAX_BACKOFF_MS",
    "EventLoopThread",
    "acks_key",
    "broker_id",
    "canonical_queue_name",
    "compute_backoff",
    "consumer_saturated",
    "current_millis",
    "dead_key",
    "dead_messages_key",
    "delay_queue_name",
    "dispatch_call",
    "dispatch_source",
    "get_event_loop_thread",
    "heartbeats_key",
    "last_traceback",
    "max_unpack_size",
    "message_for_enqueue",
    "messages_key",
    "queue_key",
    "redis_message_id",
    "requeue",
    "retries_so_far",
    "run_maintenance",
    "set_prometheus_db_path",
    "shorten_worker_polls",
    "worker_queues",
    "worker_threads",
]

AnyMessage: TypeAlias = Message[Any]

# --- the broker's Redis layout (dramatiq/brokers/redis/dispatch.lua) -------------------------------

DELAY_SUFFIX: Final = ".DQ"
DEAD_SUFFIX: Final = ".XQ"
MESSAGES_SUFFIX: Final = ".msgs"


def queue_key(namespace: str, queue_name: str) -> str:
    """``{ns}:{queue}``: the list of ready message ids (what KEDA's Redis scaler watches)."""
    return f"{namespace}:{queue_name}"


def messages_key(namespace: str, queue_name: str) -> str:
    """``{ns}:{queue}.msgs``: hash id → message, kept until acked (in-flight messages too)."""
    return queue_key(namespace, queue_name) + MESSAGES_SUFFIX


def delay_queue_name(queue_name: str) -> str:
    """``{queue}.DQ``: retries with backoff and delayed sends."""
    return str(dq_name(queue_name))


def canonical_queue_name(queue_name: str) -> str:
    """``{queue}.DQ`` → ``{queue}``, exactly as ``dispatch.lua`` does (dead letters live there)."""
    return queue_name.removesuffix(DELAY_SUFFIX)


def dead_key(namespace: str, queue_name: str) -> str:
    """``{ns}:{queue}.XQ``: zset of dead-lettered ids by time (always the canonical queue)."""
    return queue_key(namespace, canonical_queue_name(queue_name)) + DEAD_SUFFIX


def dead_messages_key(namespace: str, queue_name: str) -> str:
    return dead_key(namespace, queue_name) + MESSAGES_SUFFIX


def acks_key(namespace: str, worker_id: str, queue_name: str) -> str:
    """Set of ids the broker ``worker_id`` fetched from ``queue_name`` and has not acked."""
    return f"{namespace}:__acks__.{worker_id}.{queue_name}"


def heartbeats_key(namespace: str) -> str:
    """Zset of broker ids by the time of their last command (ms)."""
    return f"{namespace}:__heartbeats__"


# --- the dispatch script ---------------------------------------------------------------------------

# ARGV of dispatch.lua before the command's own arguments, in order (its header comment)
DISPATCH_ARGS: Final = (
    "command",
    "timestamp",
    "queue_name",
    "worker_id",
    "heartbeat_timeout",
    "dead_message_ttl",
    "do_maintenance",
    "max_unpack_size",
)


def broker_id(broker: RedisBroker) -> str:
    """The broker's id: its ``worker_id`` in the script, heartbeats and acks keys."""
    return str(broker.broker_id)


def dispatch_source(broker: RedisBroker) -> bytes:
    """The Lua source of the broker's ``dispatch`` script (to register on another client)."""
    source = broker.scripts["dispatch"].script
    return source if isinstance(source, bytes) else str(source).encode()


def max_unpack_size(broker: RedisBroker) -> int:
    """Half the Lua stack Redis allows (a script call once per process, then cached). Blocking."""
    return int(broker._max_unpack_size())


def dispatch_call(
    broker: RedisBroker,
    command: str,
    queue_name: str,
    *args: Any,
    unpack_size: int,
    maintenance: bool | None = None,
) -> tuple[list[str], list[Any]]:
    """``(keys, args)`` of ``dispatch.lua`` for ``command``, as ``RedisBroker._dispatch`` builds them.

    ``maintenance`` None: the broker's own dice (0.1 % of commands); True: run it now.
    """
    do_maintenance = broker._should_do_maintenance(command) if maintenance is None else maintenance
    values = {
        "command": command,
        "timestamp": current_millis(),
        "queue_name": queue_name,
        "worker_id": broker.broker_id,
        "heartbeat_timeout": broker.heartbeat_timeout,
        "dead_message_ttl": broker.dead_message_ttl,
        "do_maintenance": int(do_maintenance),
        "max_unpack_size": unpack_size,
    }
    return [broker.namespace], [*(values[name] for name in DISPATCH_ARGS), *args]


def run_maintenance(broker: RedisBroker, queue_name: str) -> None:
    """Run the script's maintenance block for ``queue_name`` now (requeues dead workers' messages).

    ``qsize`` is a read-only command; the maintenance block runs before it. Blocking.
    """
    keys, args = dispatch_call(
        broker, "qsize", queue_name, unpack_size=max_unpack_size(broker), maintenance=True
    )
    broker.scripts["dispatch"](keys=keys, args=args)


def requeue(broker: RedisBroker, queue_name: str, redis_ids: Sequence[str]) -> None:
    """Put fetched-but-unacked messages (by their Redis id) back on ``queue_name``. Blocking."""
    if redis_ids:
        broker.do_requeue(queue_name, *redis_ids)


# --- messages ------------------------------------------------------------------------------------

REDIS_MESSAGE_ID: Final = "redis_message_id"


def message_for_enqueue(message: AnyMessage, delay: int | None) -> tuple[str, AnyMessage]:
    """``(queue_name, message)`` as ``RedisBroker.enqueue`` stores them: a fresh Redis id per
    enqueue (a retried message must not reuse one) and, when delayed, the delay queue + ``eta``.
    """
    queue_name = message.queue_name
    message = message.copy(options={REDIS_MESSAGE_ID: str(uuid4())})
    if delay is not None:
        queue_name = delay_queue_name(queue_name)
        message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
    return queue_name, message


def redis_message_id(message: Any) -> str | None:
    """The id the Redis broker stored ``message`` (or its proxy) under, if it came from Redis."""
    value = message.options.get(REDIS_MESSAGE_ID)
    return str(value) if value is not None else None


def retries_so_far(options: dict[str, Any]) -> int:
    """How many times ``Retries`` has retried the message (its ``retries`` option)."""
    return int(options.get("retries", 0) or 0)


def last_traceback(options: dict[str, Any]) -> str | None:
    """The traceback ``Retries`` kept of the message's last failure, if any."""
    text = str(options.get("traceback") or "").strip()
    return text or None


# --- backoff (dramatiq.common.compute_backoff, middleware.Retries) -----------------------------------

BACKOFF_MAX_EXPONENT: Final = 32  # compute_backoff's default max_exponent
# Retries caps every retry delay at this (7 days), whatever max_backoff it was given
RETRIES_MAX_BACKOFF_MS: Final[int] = int(DEFAULT_MAX_BACKOFF)


# --- consumers and workers -------------------------------------------------------------------------


def consumer_saturated(consumer: Consumer) -> bool:
    """The Redis consumer holds ``prefetch`` unacked messages, so it answers None without polling."""
    outstanding = getattr(consumer, "outstanding_message_count", 0)
    return bool(outstanding >= getattr(consumer, "prefetch", outstanding + 1))


def worker_queues(worker: Any) -> Iterable[str] | None:
    """The queues a ``dramatiq.Worker`` was told to consume (None: every declared queue)."""
    whitelist = getattr(worker, "consumer_whitelist", None)
    return set(whitelist) if whitelist else None


def worker_threads(worker: Any) -> int:
    return int(getattr(worker, "worker_threads", 0))


def shorten_worker_polls(worker: Any, seconds: float) -> None:
    """Make the worker's threads poll their in-process work queue every ``seconds`` at most."""
    for thread in getattr(worker, "workers", ()):
        thread.timeout = min(thread.timeout, seconds)


# --- Prometheus middleware ---------------------------------------------------------------------------


def set_prometheus_db_path(directory: str) -> None:
    """Point Dramatiq's Prometheus middleware at ``directory`` (it reads a module global)."""
    _prometheus.DB_PATH = directory
